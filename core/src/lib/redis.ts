import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../logger.ts';

/**
 * An ioredis connection that never crashes the process when Redis is away: errors are logged (once per
 * outage) and commands fail fast instead of queueing forever, so readiness and rate limits can decide.
 */
export function createRedis(url: string, log: Logger, options: RedisOptions = {}): Redis {
  return logOutages(new Redis(url, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
    connectTimeout: 2_000,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
    ...options,
  }), log);
}

/**
 * Another connection with `redis`'s settings (and outage logging), for what must not share the process's
 * command connection: blocking reads, auto-pipelining, BullMQ, the topic bus's subscriber. The caller closes it.
 */
export function duplicateRedis(redis: Redis, log: Logger, options: RedisOptions = {}): Redis {
  return logOutages(redis.duplicate(options), log);
}

function logOutages(redis: Redis, log: Logger): Redis {
  let down = false;
  redis.on('error', (err) => {
    if (down) return;
    down = true;
    log.warn({ err: err.message }, 'redis connection error');
  });
  redis.on('ready', () => {
    if (down) log.info('redis connection restored');
    down = false;
  });
  return redis;
}

/** Resolves with the value or rejects after ms: for checks that must answer even when a store hangs. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
