import { z } from 'zod';
import { boolVar, logLevelVar, parseEnv, portVar, urlVar } from '@cic/core/lib/env';

const seconds = (fallback: number) => z.coerce.number().positive('expected a positive number of seconds').default(fallback);
const millis = (fallback: number) => z.coerce.number().int().min(100, 'expected at least 100 ms').default(fallback);

export const jobsEnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().min(1).default('127.0.0.1'),
  /** The workers' own /metrics and /healthz. */
  JOBS_PORT: portVar(4001),
  DATABASE_URL: urlVar(['postgres', 'postgresql']),
  REDIS_URL: urlVar(['redis', 'rediss']),
  /** Put before every pub/sub channel name; must equal the API's REDIS_CHANNEL_PREFIX (it hears what the workers publish). */
  REDIS_CHANNEL_PREFIX: z.string().min(1).default('cic:'),
  LOG_LEVEL: logLevelVar,
  SHUTDOWN_GRACE_SECONDS: seconds(30),
  /** BullMQ key prefix; must equal the API's BULLMQ_PREFIX (the API enqueues node launches). */
  BULLMQ_PREFIX: z.string().min(1).default('bull'),
  /** A worker that holds a job longer than this without renewing its lock is presumed dead (stalled job → retried). */
  JOBS_LOCK_DURATION_MS: millis(30_000),
  /** How often workers look for stalled jobs of crashed workers. */
  JOBS_STALLED_INTERVAL_MS: millis(30_000),
  /** Repeat interval of the node health check. */
  HEALTH_CHECK_INTERVAL_MS: millis(5_000),
  /** Repeat interval of the provider reconcile (sky status vs. database). */
  RECONCILE_INTERVAL_MS: millis(60_000),
  /** Repeat interval of the usage rollup. */
  USAGE_ROLLUP_INTERVAL_MS: millis(30_000),
  /** Consecutive failed health checks before a READY node becomes UNHEALTHY. */
  HEALTH_FAILURE_THRESHOLD: z.coerce.number().int().min(1).default(3),
  /** Timeout of one health probe (/health or /metrics). */
  HEALTH_PROBE_TIMEOUT_MS: millis(2_000),
  /** The SkyPilot CLI; found on PATH when unset. */
  SKY_BIN: z.string().min(1).default('sky'),
  /** Upper bound of `sky launch` (provisioning a GPU VM can take many minutes). */
  SKY_LAUNCH_TIMEOUT_SECONDS: seconds(1800),
  /** Upper bound of the other sky commands (status, down). */
  SKY_COMMAND_TIMEOUT_SECONDS: seconds(300),
  /** Pass `--retry-until-up` to `sky launch` (keep trying other zones/regions until capacity is found). */
  SKY_RETRY_UNTIL_UP: boolVar(false),
  /** How long a started node may take to answer /health and list its model on /v1/models. */
  NODE_READY_TIMEOUT_SECONDS: seconds(900),
  /** Longest wait for in-flight requests to finish while DRAINING before the node is torn down anyway. */
  DRAIN_TIMEOUT_SECONDS: seconds(120),
  /** An UNHEALTHY node without a successful health check for this long is terminated (it still costs money). */
  UNHEALTHY_TERMINATE_AFTER_SECONDS: seconds(600),
  /** Launch one local simulated node for the default model at start-up when none is live (npm start). */
  LOCAL_NODE_AT_BOOT: boolVar(false),
  /** Seals and opens node API keys (docs/security.md#nodes-every-hop-to-a-vllm-server-is-authenticated); the API's value. Required in production, a fixed dev value otherwise. */
  NODE_SECRET_KEY: z.string().min(32, 'expected at least 32 characters').optional(),
  /** Let STATIC nodes and cluster endpoints use link-local / cloud metadata addresses (169.254.0.0/16, fd00:ec2::254). */
  NODE_ALLOW_LINK_LOCAL_URLS: boolVar(false),
});

export type JobsConfig = z.infer<typeof jobsEnvSchema>;

export const loadJobsConfig = (env: NodeJS.ProcessEnv = process.env): JobsConfig => parseEnv(jobsEnvSchema, env);
