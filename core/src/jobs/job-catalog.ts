import type { BackoffOptions, JobsOptions } from 'bullmq';
import { z } from 'zod';

/** Node launches and teardowns: enqueued by the API (and the health checker), run by the jobs worker. */
export const NODE_LIFECYCLE_QUEUE = 'node-lifecycle';
/** The periodic jobs (health checks, reconcile, usage rollup), started by job schedulers. */
export const MAINTENANCE_QUEUE = 'maintenance';
export const JOB_QUEUES = [NODE_LIFECYCLE_QUEUE, MAINTENANCE_QUEUE] as const;
export type JobQueueName = (typeof JOB_QUEUES)[number];

/**
 * The jobs worker's settings that timeouts and schedule intervals derive from: a typed slice of its
 * config (the API only enqueues and never evaluates them).
 */
export interface JobSettings {
  SKY_LAUNCH_TIMEOUT_SECONDS: number;
  SKY_COMMAND_TIMEOUT_SECONDS: number;
  NODE_READY_TIMEOUT_SECONDS: number;
  DRAIN_TIMEOUT_SECONDS: number;
  HEALTH_PROBE_TIMEOUT_MS: number;
  HEALTH_CHECK_INTERVAL_MS: number;
  RECONCILE_INTERVAL_MS: number;
  USAGE_ROLLUP_INTERVAL_MS: number;
}

export interface JobDefinition<Q extends JobQueueName = JobQueueName, P extends z.ZodType = z.ZodType> {
  queue: Q;
  /** Checked when the job is enqueued and again by the worker before its handler runs. */
  payload: P;
  /** Tries before the job is failed for good (a worker crash counts as a stall, not an attempt). */
  attempts: number;
  backoff: BackoffOptions;
  /** The handler's AbortSignal fires after this long; the attempt then fails. */
  timeoutMs(settings: JobSettings): number;
  /** How long finished jobs stay in Redis for inspection before BullMQ drops them. */
  retention: Required<Pick<JobsOptions, 'removeOnComplete' | 'removeOnFail'>>;
  /** Periodic jobs only: a job scheduler (one per name) adds the job this often. */
  every?(settings: JobSettings): number;
  /**
   * A deterministic id for jobs a duplicate must not run twice: enqueueing while a job with this id
   * exists is folded into it. BullMQ refuses ':' in custom ids, hence '-'. Without it BullMQ numbers the job.
   */
  jobId?(payload: z.infer<P>): string;
  /**
   * With `jobId`: a finished job with the same id (completed or failed for good) is removed first, so a
   * new request runs again. Otherwise the add is folded into the finished job while it is retained.
   * @defaultValue false
   */
  rerunFinished?: boolean;
}

/** Keeps the queue name and payload schema as literal types, so handlers get typed payloads. */
const defineJob = <Q extends JobQueueName, P extends z.ZodType>(definition: JobDefinition<Q, P>) => definition;

const nodePayload = z.object({ nodeId: z.string().startsWith('node_') });
// Schedulers add `{}`; everything a periodic job needs is read from the database.
const noPayload = z.object({}).loose();

// Node jobs are kept a while for inspection, then dropped so Redis does not grow forever.
const KEEP_FOR_INSPECTION = { removeOnComplete: { age: 24 * 3600 }, removeOnFail: { age: 7 * 24 * 3600 } };
// Periodic jobs run every few seconds: keep the last runs only.
const KEEP_LAST_RUNS = { removeOnComplete: 100, removeOnFail: 500 };

/**
 * Every job: name → queue, zod payload, retries, timeout, id and retention. `enqueue()` and the job
 * schedulers take all their options from here and the worker's processor its validation and timeout;
 * handlers are idempotent on their business key (node id, usage hour). Launches wait on clouds, so
 * transient failures are retried with backoff (CLI errors end FAILED at once in the handler).
 */
export const JOB_CATALOG = {
  /** PENDING → … → READY; one launch per node, ever (`launch-<nodeId>`). */
  'node.launch': defineJob({
    queue: NODE_LIFECYCLE_QUEUE, payload: nodePayload, attempts: 3, backoff: { type: 'exponential', delay: 5_000 },
    timeoutMs: (s) => (s.SKY_LAUNCH_TIMEOUT_SECONDS + s.SKY_COMMAND_TIMEOUT_SECONDS + s.NODE_READY_TIMEOUT_SECONDS) * 1000,
    retention: KEEP_FOR_INSPECTION,
    jobId: ({ nodeId }) => `launch-${nodeId}`,
  }),
  /** Drain and tear down; one run at a time per node (`terminate-<nodeId>`), a later request runs again. */
  'node.terminate': defineJob({
    queue: NODE_LIFECYCLE_QUEUE, payload: nodePayload, attempts: 5, backoff: { type: 'exponential', delay: 5_000 },
    timeoutMs: (s) => (s.DRAIN_TIMEOUT_SECONDS + s.SKY_COMMAND_TIMEOUT_SECONDS + 30) * 1000,
    retention: KEEP_FOR_INSPECTION,
    jobId: ({ nodeId }) => `terminate-${nodeId}`,
    rerunFinished: true,
  }),
  'nodes.health-check': defineJob({
    queue: MAINTENANCE_QUEUE, payload: noPayload, attempts: 1, backoff: { type: 'fixed', delay: 1_000 },
    timeoutMs: (s) => s.HEALTH_PROBE_TIMEOUT_MS * 2 + 10_000,
    retention: KEEP_LAST_RUNS,
    every: (s) => s.HEALTH_CHECK_INTERVAL_MS,
  }),
  'nodes.reconcile': defineJob({
    queue: MAINTENANCE_QUEUE, payload: noPayload, attempts: 1, backoff: { type: 'fixed', delay: 1_000 },
    timeoutMs: (s) => s.SKY_COMMAND_TIMEOUT_SECONDS * 1000,
    retention: KEEP_LAST_RUNS,
    every: (s) => s.RECONCILE_INTERVAL_MS,
  }),
  'usage.rollup': defineJob({
    queue: MAINTENANCE_QUEUE, payload: noPayload, attempts: 3, backoff: { type: 'exponential', delay: 2_000 },
    timeoutMs: () => 120_000,
    retention: KEEP_LAST_RUNS,
    every: (s) => s.USAGE_ROLLUP_INTERVAL_MS,
  }),
};

export type JobName = keyof typeof JOB_CATALOG;
/** The validated payload of a job, as its handler receives it. */
export type PayloadOf<K extends JobName> = z.infer<(typeof JOB_CATALOG)[K]['payload']>;

export const isJobName = (name: string): name is JobName => Object.hasOwn(JOB_CATALOG, name);

/** The catalog entry of `name`, widened so its optional parts can be read without narrowing per job. */
export const jobDefinition = (name: JobName): JobDefinition => JOB_CATALOG[name];

/** The job's deterministic id for this payload, or undefined when BullMQ numbers it. */
export function jobIdOf<K extends JobName>(name: K, payload: PayloadOf<K>): string | undefined {
  return jobDefinition(name).jobId?.(payload);
}

/** Validates a job's data against its payload schema (the worker does this before the handler runs). */
export function parseJobPayload<K extends JobName>(name: K, data: unknown): z.ZodSafeParseResult<PayloadOf<K>> {
  // TypeScript cannot follow a generic K through the schema's output type; the schema is JOB_CATALOG[K]'s.
  return jobDefinition(name).payload.safeParse(data) as z.ZodSafeParseResult<PayloadOf<K>>;
}
