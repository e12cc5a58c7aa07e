import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { buildApi } from '../../src/app.ts';
import { loadApiConfig } from '../../src/config.ts';

export interface TestApiOptions {
  databaseUrl: string;
  redisUrl: string;
  /** Isolates this API's Redis keys (usage stream, rate limits) and pub/sub channels from other test files'. */
  redisPrefix?: string;
  env?: Record<string, string>;
}

/** Builds and starts the real API on a free loopback port, with logs silenced. */
export async function startTestApi({ databaseUrl, redisUrl, redisPrefix = `test:${randomUUID()}:`, env = {} }: TestApiOptions) {
  const config = loadApiConfig({
    NODE_ENV: 'test', PORT: '0', DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, SHUTDOWN_GRACE_SECONDS: '5', SHUTDOWN_ANNOUNCE_MS: '0', INFERENCE_REDIS_PREFIX: redisPrefix, REDIS_CHANNEL_PREFIX: redisPrefix,
    // A spool of its own (made only if a record is ever spooled): another test's API must never replay it into its database.
    BULLMQ_PREFIX: `b${randomUUID().slice(0, 8)}`, USAGE_SPOOL_DIR: join(tmpdir(), `cic-usage-spool-${randomUUID()}`), ...env,
  });
  const api = buildApi({ config, log: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }) });
  const { url } = await api.start();
  return { ...api, url };
}
