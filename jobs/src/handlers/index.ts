import type { JobName, PayloadOf } from '@cic/core/jobs/job-catalog';
import type { Job } from 'bullmq';
import { handleHealthCheck } from './check-node-health.ts';
import type { JobContext } from './job-context.ts';
import { handleNodeLaunch } from './launch-node.ts';
import { handleReconcile } from './reconcile-nodes.ts';
import { handleUsageRollup } from './rollup-usage.ts';
import { handleNodeTerminate } from './terminate-node.ts';

/** Whether BullMQ will give up on the job if this attempt fails. */
const isFinalAttempt = (job: Job): boolean => job.attemptsMade + 1 >= (job.opts.attempts ?? 1);

/** One handler per catalog job, called with the payload the catalog's schema validated. */
export type JobHandlers = { [K in JobName]: (ctx: JobContext, payload: PayloadOf<K>, job: Job) => Promise<unknown> };

export const HANDLERS: JobHandlers = {
  'node.launch': (ctx, payload, job) => handleNodeLaunch(ctx, payload, { finalAttempt: isFinalAttempt(job) }),
  'node.terminate': (ctx, payload, job) => handleNodeTerminate(ctx, payload, { finalAttempt: isFinalAttempt(job) }),
  'nodes.health-check': (ctx) => handleHealthCheck(ctx),
  'nodes.reconcile': (ctx) => handleReconcile(ctx),
  'usage.rollup': (ctx) => handleUsageRollup(ctx),
};
