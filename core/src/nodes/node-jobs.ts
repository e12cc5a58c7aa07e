import type { Queue } from 'bullmq';
import { z } from 'zod';

/** The BullMQ queue the API enqueues node launches/terminations on and the jobs worker consumes. */
export const NODE_LIFECYCLE_QUEUE = 'node-lifecycle';

export const NODE_JOB_NAMES = { launch: 'node.launch', terminate: 'node.terminate' } as const;

/** Payload of `node.launch`: everything else is read from the Node row. */
export const nodeLaunchPayload = z.object({ nodeId: z.string().startsWith('node_') });
/** Payload of `node.terminate`. */
export const nodeTerminatePayload = z.object({ nodeId: z.string().startsWith('node_') });

export type NodeLaunchPayload = z.infer<typeof nodeLaunchPayload>;
export type NodeTerminatePayload = z.infer<typeof nodeTerminatePayload>;

/** BullMQ refuses ':' in custom job ids, so the deterministic ids use '-'. */
export const nodeLaunchJobId = (nodeId: string): string => `launch-${nodeId}`;
export const nodeTerminateJobId = (nodeId: string): string => `terminate-${nodeId}`;

// Launches wait on clouds: retry transient failures with backoff (CLI errors end FAILED at once in the
// handler). Finished jobs are kept a while for inspection, then dropped so Redis does not grow forever.
const RETENTION = { removeOnComplete: { age: 24 * 3600 }, removeOnFail: { age: 7 * 24 * 3600 } };

export interface NodeJobRetry {
  /**
   * First retry delay in ms, doubling after each failed attempt.
   * @defaultValue 5000
   */
  backoffDelayMs?: number;
}

const jobOptions = (attempts: number, { backoffDelayMs = 5_000 }: NodeJobRetry) => ({
  attempts,
  backoff: { type: 'exponential', delay: backoffDelayMs },
  ...RETENTION,
});

/**
 * Enqueues the launch of a PENDING node. The job id is deterministic (`launch-<nodeId>`), so a retried
 * mutation or a double click cannot launch the same node twice.
 */
export async function enqueueNodeLaunch(queue: Queue, nodeId: string, retry: NodeJobRetry = {}): Promise<void> {
  await queue.add(NODE_JOB_NAMES.launch, nodeLaunchPayload.parse({ nodeId }), { jobId: nodeLaunchJobId(nodeId), ...jobOptions(3, retry) });
}

/**
 * Enqueues the termination of a node (idempotent by `terminate-<nodeId>` while one is queued or running).
 * A finished terminate job (failed for good, or completed while the node was in another state) is
 * removed first: BullMQ ignores an add whose id still exists, and a new request must get a new run.
 */
export async function enqueueNodeTerminate(queue: Queue, nodeId: string, retry: NodeJobRetry = {}): Promise<void> {
  const jobId = nodeTerminateJobId(nodeId);
  const previous = await queue.getJob(jobId);
  const state = previous ? await previous.getState() : null;
  if (state === 'completed' || state === 'failed') await previous!.remove();
  await queue.add(NODE_JOB_NAMES.terminate, nodeTerminatePayload.parse({ nodeId }), { jobId, ...jobOptions(5, retry) });
}

/** Whether a terminate run for the node is queued or running (a new request would be folded into it). */
export async function nodeTerminatePending(queue: Queue, nodeId: string): Promise<boolean> {
  const job = await queue.getJob(nodeTerminateJobId(nodeId));
  if (!job) return false;
  const state = await job.getState();
  return state !== 'completed' && state !== 'failed' && state !== 'unknown';
}
