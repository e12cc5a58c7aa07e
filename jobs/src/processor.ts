import { UnrecoverableError, type Job } from 'bullmq';
import { isJobName, JOB_CATALOG } from './catalog.ts';
import type { JobContext } from './handlers/job-context.ts';
import { HANDLERS } from './handlers/index.ts';

/**
 * The one BullMQ processor: looks the job up in the catalog, validates its payload, runs its handler
 * with the catalog's timeout as an AbortSignal, and records duration/failure metrics.
 */
export function createProcessor(base: Omit<JobContext, 'signal'>) {
  return async (job: Job): Promise<unknown> => {
    if (!isJobName(job.name)) throw new UnrecoverableError(`unknown job "${job.name}"`);
    const definition = JOB_CATALOG[job.name];
    const parsed = definition.payload.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid payload for ${job.name}: ${parsed.error.message}`);
    const signal = AbortSignal.timeout(definition.timeoutMs(base.config));
    const end = base.metrics.jobDuration.startTimer({ queue: job.queueName, name: job.name });
    try {
      const result = await HANDLERS[job.name]({ ...base, signal }, parsed.data as { nodeId?: string }, job);
      end({ outcome: 'completed' });
      return result;
    } catch (err) {
      end({ outcome: 'failed' });
      base.metrics.jobsFailed.inc({ queue: job.queueName, name: job.name });
      base.log.warn({ err, jobId: job.id, job: job.name, attempt: job.attemptsMade + 1 }, 'job attempt failed');
      throw err;
    }
  };
}
