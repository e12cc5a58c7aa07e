import { isJobName, JOB_CATALOG, parseJobPayload, type JobName } from '@cic/core/jobs/job-catalog';
import { UnrecoverableError, WaitingError, type Job } from 'bullmq';
import type { JobContext } from './handlers/job-context.ts';
import { HANDLERS } from './handlers/index.ts';

/** Validates the job's payload against the catalog and runs its handler with the catalog's timeout. */
async function runHandler<K extends JobName>(name: K, base: Omit<JobContext, 'signal'>, job: Job): Promise<unknown> {
  const parsed = parseJobPayload(name, job.data);
  if (!parsed.success) throw new UnrecoverableError(`invalid payload for ${name}: ${parsed.error.message}`);
  const signal = AbortSignal.any([AbortSignal.timeout(JOB_CATALOG[name].timeoutMs(base.config)), base.stopping]);
  return HANDLERS[name]({ ...base, signal }, parsed.data, job);
}

/**
 * The one BullMQ processor: looks the job up in the catalog, validates its payload, runs its handler
 * with the catalog's timeout as an AbortSignal, and records duration/failure metrics. A job interrupted
 * by the worker's shutdown is handed back to the queue, not failed.
 */
export function createProcessor(base: Omit<JobContext, 'signal'>) {
  return async (job: Job, token?: string): Promise<unknown> => {
    if (!isJobName(job.name)) throw new UnrecoverableError(`unknown job "${job.name}"`);
    const end = base.metrics.jobDuration.startTimer({ queue: job.queueName, name: job.name });
    try {
      const result = await runHandler(job.name, base, job);
      end({ outcome: 'completed' });
      return result;
    } catch (err) {
      if (base.stopping.aborted && token) {
        // The worker is stopping: the job goes back to the waiting list as it is, for the next worker.
        end({ outcome: 'handed_back' });
        base.log.warn({ jobId: job.id, job: job.name }, 'job interrupted by shutdown: handed back to the queue');
        await job.moveToWait(token);
        throw new WaitingError();
      }
      end({ outcome: 'failed' });
      base.metrics.jobsFailed.inc({ queue: job.queueName, name: job.name });
      base.log.warn({ err, jobId: job.id, job: job.name, attempt: job.attemptsMade + 1 }, 'job attempt failed');
      throw err;
    }
  };
}
