import type { Job } from 'bullmq';
import type { JobName } from '../catalog.ts';
import { handleHealthCheck } from './check-node-health.ts';
import type { JobContext } from './job-context.ts';
import { handleNodeLaunch } from './launch-node.ts';
import { handleReconcile } from './reconcile-nodes.ts';
import { handleUsageRollup } from './rollup-usage.ts';
import { handleNodeTerminate } from './terminate-node.ts';

/** Whether BullMQ will give up on the job if this attempt fails. */
const isFinalAttempt = (job: Job): boolean => job.attemptsMade + 1 >= (job.opts.attempts ?? 1);

type Handler = (ctx: JobContext, payload: { nodeId?: string }, job: Job) => Promise<unknown>;

/** The handler of each catalog job (payloads are validated against the catalog before the call). */
export const HANDLERS: Record<JobName, Handler> = {
  'node.launch': (ctx, p, job) => handleNodeLaunch(ctx, { nodeId: p.nodeId! }, { finalAttempt: isFinalAttempt(job) }),
  'node.terminate': (ctx, p, job) => handleNodeTerminate(ctx, { nodeId: p.nodeId! }, { finalAttempt: isFinalAttempt(job) }),
  'nodes.health-check': (ctx) => handleHealthCheck(ctx),
  'nodes.reconcile': (ctx) => handleReconcile(ctx),
  'usage.rollup': (ctx) => handleUsageRollup(ctx),
};
