import { z } from 'zod';
import { boolVar, logLevelVar, parseEnv, portVar, urlVar } from './lib/env.ts';

export const apiEnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: portVar(4000),
  DATABASE_URL: urlVar(['postgres', 'postgresql']),
  REDIS_URL: urlVar(['redis', 'rediss']),
  LOG_LEVEL: logLevelVar,
  /** Seconds to let in-flight requests (long streams included) finish on SIGTERM. */
  SHUTDOWN_GRACE_SECONDS: z.coerce.number().positive('expected a positive number of seconds').default(30),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  /** Trust X-Forwarded-For from a load balancer when logging client addresses. */
  TRUST_PROXY: boolVar(false),
});

export type ApiConfig = z.infer<typeof apiEnvSchema>;

export const loadApiConfig = (env: NodeJS.ProcessEnv = process.env): ApiConfig => parseEnv(apiEnvSchema, env);
