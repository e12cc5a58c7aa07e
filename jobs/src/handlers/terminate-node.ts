import type { PayloadOf } from '@cic/core/jobs/job-catalog';
import { parseNodeConfig } from '@cic/core/nodes/node-config';
import { IllegalNodeTransitionError, transitionNode } from '@cic/core/nodes/node-state-machine';
import { isServing } from '@cic/core/nodes/node-status-groups';
import { probeVllm } from '../vllm-probe.ts';
import type { JobContext } from './job-context.ts';
import { loadNode } from './load-node.ts';
import { openNodeApiKey } from './node-api-key.ts';
import { nodeLogger } from './node-log.ts';

/** Waits until the node reports no running requests (from its /metrics), or the drain limit passes. */
async function drain(ctx: JobContext, { endpointUrl, apiKeyCiphertext }: { endpointUrl: string | null; apiKeyCiphertext: string | null }, log: (line: string) => Promise<void>): Promise<void> {
  if (!endpointUrl) return;
  const deadline = Date.now() + ctx.config.DRAIN_TIMEOUT_SECONDS * 1000;
  for (;;) {
    let running: number;
    try {
      running = (await probeVllm(endpointUrl, openNodeApiKey(ctx, apiKeyCiphertext), ctx.config.HEALTH_PROBE_TIMEOUT_MS)).running;
    } catch (err) {
      await log(`drain: node unreachable (${(err as Error).message}); tearing down`);
      return;
    }
    if (running === 0) return void (await log('drain: no requests in flight'));
    if (ctx.stopping.aborted) throw new Error('drain interrupted: the worker is stopping');
    if (Date.now() >= deadline || ctx.signal.aborted) {
      return void (await log(`drain: ${running} request(s) still running after ${ctx.config.DRAIN_TIMEOUT_SECONDS} s; tearing down anyway`));
    }
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

/**
 * `node.terminate`: DRAINING (wait for in-flight requests) → TERMINATING → provider teardown →
 * TERMINATED. Idempotent: it resumes from the node's status, and tearing down a gone cluster is a no-op.
 */
export async function handleNodeTerminate(ctx: JobContext, { nodeId }: PayloadOf<'node.terminate'>, { finalAttempt }: { finalAttempt: boolean }): Promise<string> {
  let node = await loadNode(ctx, nodeId);
  if (!node || node.status === 'TERMINATED') return 'already terminated';
  const log = nodeLogger(ctx, nodeId);
  const move = (to: 'DRAINING' | 'TERMINATING' | 'TERMINATED' | 'FAILED', reason: string, data?: { terminatedAt: Date }) =>
    transitionNode({ prisma: ctx.prisma, bus: ctx.bus, nodeId, to, reason, data });
  try {
    if (isServing(node.status)) await move('DRAINING', 'termination: draining');
    if (isServing(node.status) || node.status === 'DRAINING') {
      await drain(ctx, node, log);
      await move('TERMINATING', 'drained; tearing down');
    } else if (node.status !== 'TERMINATING') {
      await move('TERMINATING', `termination from ${node.status}`);
    }
    node = { ...node, status: 'TERMINATING' };
    await ctx.providers.byName[node.provider].terminate({ node, config: parseNodeConfig(node.config), apiKey: null, signal: ctx.signal, log });
    await log.flush();
    await move('TERMINATED', 'torn down', { terminatedAt: new Date() });
    return 'terminated';
  } catch (err) {
    await log.flush();
    if (err instanceof IllegalNodeTransitionError) {
      await log(`terminate: the node is ${err.from}; nothing more to do`);
      return `node is ${err.from}`;
    }
    const message = (err as Error).message;
    if (!finalAttempt || ctx.stopping.aborted) {
      await log(`teardown attempt failed, will retry: ${message}`);
      throw err;
    }
    await move('FAILED', `teardown failed: ${message}`).catch((e: unknown) => ctx.log.warn({ err: e, nodeId }, 'could not mark node FAILED'));
    throw err;
  }
}
