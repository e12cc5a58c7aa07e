import { NODE_JOB_NAMES, NODE_LIFECYCLE_QUEUE, nodeLaunchPayload, nodeTerminatePayload } from '@cic/core/nodes/node-jobs';
import type { BackoffOptions } from 'bullmq';
import { z } from 'zod';
import type { JobsConfig } from './config.ts';

/** Queue of the periodic jobs (health checks, reconcile, usage rollup). */
export const MAINTENANCE_QUEUE = 'maintenance';

export interface JobDefinition {
  queue: string;
  payload: z.ZodType;
  /** Tries before the job is failed for good (a worker crash counts as a stall, not an attempt). */
  attempts: number;
  backoff: BackoffOptions;
  /** The handler's AbortSignal fires after this long; the attempt then fails. */
  timeoutMs: (config: JobsConfig) => number;
}

const empty = z.object({}).loose();

/**
 * Every job the workers run: name → queue, zod payload, retries and timeout. Node jobs have
 * deterministic ids (`launch-<nodeId>`, set by node-jobs.ts); periodic jobs come from job schedulers
 * (one per name), and all handlers are idempotent on their business key (node id, usage hour).
 * BullMQ applies attempts/backoff from the enqueue options: the schedulers use these; node jobs are
 * enqueued by the API (node-jobs.ts), whose options must match this table.
 */
export const JOB_CATALOG = {
  [NODE_JOB_NAMES.launch]: {
    queue: NODE_LIFECYCLE_QUEUE, payload: nodeLaunchPayload, attempts: 3, backoff: { type: 'exponential', delay: 5_000 },
    timeoutMs: (c) => (c.SKY_LAUNCH_TIMEOUT_SECONDS + c.SKY_COMMAND_TIMEOUT_SECONDS + c.NODE_READY_TIMEOUT_SECONDS) * 1000,
  },
  [NODE_JOB_NAMES.terminate]: {
    queue: NODE_LIFECYCLE_QUEUE, payload: nodeTerminatePayload, attempts: 5, backoff: { type: 'exponential', delay: 5_000 },
    timeoutMs: (c) => (c.DRAIN_TIMEOUT_SECONDS + c.SKY_COMMAND_TIMEOUT_SECONDS + 30) * 1000,
  },
  'nodes.health-check': {
    queue: MAINTENANCE_QUEUE, payload: empty, attempts: 1, backoff: { type: 'fixed', delay: 1_000 },
    timeoutMs: (c) => c.HEALTH_PROBE_TIMEOUT_MS * 2 + 10_000,
  },
  'nodes.reconcile': {
    queue: MAINTENANCE_QUEUE, payload: empty, attempts: 1, backoff: { type: 'fixed', delay: 1_000 },
    timeoutMs: (c) => c.SKY_COMMAND_TIMEOUT_SECONDS * 1000,
  },
  'usage.rollup': {
    queue: MAINTENANCE_QUEUE, payload: empty, attempts: 3, backoff: { type: 'exponential', delay: 2_000 },
    timeoutMs: () => 120_000,
  },
} satisfies Record<string, JobDefinition>;

export type JobName = keyof typeof JOB_CATALOG;

/** The repeatable jobs and the config variable that sets each interval. */
export const SCHEDULES: { name: JobName; every: (c: JobsConfig) => number }[] = [
  { name: 'nodes.health-check', every: (c) => c.HEALTH_CHECK_INTERVAL_MS },
  { name: 'nodes.reconcile', every: (c) => c.RECONCILE_INTERVAL_MS },
  { name: 'usage.rollup', every: (c) => c.USAGE_ROLLUP_INTERVAL_MS },
];

export const isJobName = (name: string): name is JobName => Object.hasOwn(JOB_CATALOG, name);
