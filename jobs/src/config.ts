import { z } from 'zod';
import { logLevelVar, parseEnv, portVar, urlVar } from '@cic/api/lib/env';

export const jobsEnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().min(1).default('127.0.0.1'),
  /** The workers' own /metrics and /healthz. */
  JOBS_PORT: portVar(4001),
  DATABASE_URL: urlVar(['postgres', 'postgresql']),
  REDIS_URL: urlVar(['redis', 'rediss']),
  LOG_LEVEL: logLevelVar,
  SHUTDOWN_GRACE_SECONDS: z.coerce.number().positive('expected a positive number of seconds').default(30),
});

export type JobsConfig = z.infer<typeof jobsEnvSchema>;

export const loadJobsConfig = (env: NodeJS.ProcessEnv = process.env): JobsConfig => parseEnv(jobsEnvSchema, env);
