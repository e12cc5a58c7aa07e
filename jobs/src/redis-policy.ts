import type { Redis } from 'ioredis';

/** Thrown when Redis could evict keys: BullMQ would then silently lose jobs. */
export class RedisEvictionPolicyError extends Error {
  override name = 'RedisEvictionPolicyError';
}

/** BullMQ requires `maxmemory-policy noeviction`; refuse to run workers on anything else. */
export async function assertNoEviction(redis: Redis): Promise<void> {
  const reply = (await redis.config('GET', 'maxmemory-policy')) as string[];
  const policy = reply[1];
  if (policy !== 'noeviction') {
    throw new RedisEvictionPolicyError(`Redis maxmemory-policy is "${policy}"; job queues need "noeviction" (redis-server --maxmemory-policy noeviction)`);
  }
}
