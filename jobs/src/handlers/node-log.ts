import { appendNodeLog } from '@cic/core/nodes/node-state-machine';
import type { JobContext } from './job-context.ts';

export interface NodeLogger {
  (line: string): Promise<void>;
  /** Resolves once every line logged so far is written (call before a transition, so events stay in order). */
  flush(): Promise<void>;
}

/**
 * A log function for one node that appends lines to its events strictly in order (output lines arrive
 * faster than rows are written) and never fails the caller: a lost log line must not fail a launch.
 */
export function nodeLogger(ctx: Pick<JobContext, 'prisma' | 'bus' | 'log'>, nodeId: string): NodeLogger {
  let chain: Promise<unknown> = Promise.resolve();
  const log = (line: string) => {
    const message = line.length > 2000 ? `${line.slice(0, 2000)}…` : line;
    chain = chain.then(() => appendNodeLog({ prisma: ctx.prisma, bus: ctx.bus, nodeId, message }))
      .catch((err: unknown) => ctx.log.warn({ err, nodeId }, 'could not append node log'));
    return chain.then(() => undefined);
  };
  return Object.assign(log, { flush: () => chain.then(() => undefined) });
}
