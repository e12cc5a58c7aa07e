import type { Queue } from 'bullmq';
import { jobDefinition, jobIdOf, type JobName, type PayloadOf } from './job-catalog.ts';

/** The queue handed to `enqueue` is not the one the catalog puts the job on (a wiring mistake). */
export class WrongJobQueueError extends Error {
  override name = 'WrongJobQueueError';
  constructor(readonly job: JobName, readonly expected: string, readonly actual: string) {
    super(`job ${job} belongs on queue ${expected}, not ${actual}`);
  }
}

/** The catalog entry of `name`, after checking that `queue` is the one it runs on. */
function definitionOn(queue: Queue, name: JobName) {
  const definition = jobDefinition(name);
  if (queue.name !== definition.queue) throw new WrongJobQueueError(name, definition.queue, queue.name);
  return definition;
}

export interface EnqueueOptions {
  /**
   * First retry delay in ms in place of the catalog's (tests that run a job through its retries).
   * @defaultValue the catalog's backoff delay
   */
  backoffDelayMs?: number;
}

/**
 * Adds job `name` to `queue` with every option taken from the catalog: the payload is validated with
 * its zod schema (a ZodError is thrown before anything is added), and attempts, backoff, retention and
 * the deterministic id derive from its entry. A job whose finished run must not swallow a new request
 * (`rerunFinished`) has that run removed first: BullMQ ignores an add whose id still exists.
 */
export async function enqueue<K extends JobName>(queue: Queue, name: K, payload: PayloadOf<K>, options: EnqueueOptions = {}): Promise<void> {
  const definition = definitionOn(queue, name);
  const data = definition.payload.parse(payload) as PayloadOf<K>;
  const jobId = jobIdOf(name, data);
  if (jobId !== undefined && definition.rerunFinished) {
    const previous = await queue.getJob(jobId);
    const state = previous ? await previous.getState() : null;
    if (state === 'completed' || state === 'failed') await previous!.remove();
  }
  const backoff = options.backoffDelayMs === undefined ? definition.backoff : { ...definition.backoff, delay: options.backoffDelayMs };
  await queue.add(name, data, { jobId, attempts: definition.attempts, backoff, ...definition.retention });
}

/**
 * Whether the run of a job with a deterministic id is queued or running, so that enqueueing it again
 * would be folded into that run (the health checker asks before terminating a dead node).
 */
export async function isJobPending<K extends JobName>(queue: Queue, name: K, payload: PayloadOf<K>): Promise<boolean> {
  definitionOn(queue, name);
  const jobId = jobIdOf(name, payload);
  if (jobId === undefined) throw new Error(`job ${name} has no deterministic id: it cannot be looked up by payload`);
  const job = await queue.getJob(jobId);
  if (!job) return false;
  const state = await job.getState();
  return state !== 'completed' && state !== 'failed' && state !== 'unknown';
}
