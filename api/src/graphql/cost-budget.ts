import type { Redis } from 'ioredis';
import type { Logger } from '@cic/core/logger';

/*
 * One fixed one-minute window per key or user, opened by its first operation: the script adds an
 * operation's cost only if it still fits, so any number of API instances sharing Redis together admit
 * the budget, and a refused operation spends nothing.
 */
const TAKE = `
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then ttl = tonumber(ARGV[3]) end
if used + tonumber(ARGV[1]) > tonumber(ARGV[2]) then return {0, used, ttl} end
used = redis.call('INCRBY', KEYS[1], ARGV[1])
if used == tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return {1, used, ttl}`;

const WINDOW_MS = 60_000;

type ScriptRedis = Redis & { cicGqlCostTake(key: string, cost: number, budget: number, windowMs: number): Promise<[number, number, number]> };

export interface CostDecision {
  allowed: boolean;
  /** Points left in the window after this operation (0 when refused). */
  remaining: number;
  /** Seconds until the window resets (when refused: when to retry). */
  retryAfterSeconds: number;
}

export interface CostBudgetOptions {
  redis: Redis;
  /** Key prefix (GRAPHQL_REDIS_PREFIX). */
  prefix: string;
  /** Points per key or user per minute (GRAPHQL_RATE_LIMIT_POINTS_PER_MINUTE). */
  pointsPerMinute: number;
  log: Logger;
}

/** The per-minute cost budget of each API key and user, shared by every API instance through Redis. */
export class CostBudget {
  readonly pointsPerMinute: number;
  readonly #redis: ScriptRedis;
  readonly #prefix: string;
  readonly #log: Logger;
  #lastFailOpenLog = 0;

  constructor({ redis, prefix, pointsPerMinute, log }: CostBudgetOptions) {
    redis.defineCommand('cicGqlCostTake', { numberOfKeys: 1, lua: TAKE });
    this.#redis = redis as ScriptRedis;
    this.#prefix = prefix;
    this.pointsPerMinute = pointsPerMinute;
    this.#log = log;
  }

  /** Spends `cost` points of `holder`'s window (`key:<id>` or `usr:<id>`), or says when to come back. */
  async take(holder: string, cost: number): Promise<CostDecision> {
    try {
      // A disconnected client would queue the call until reconnect: answer at once instead.
      if (this.#redis.status !== 'ready') throw new Error(`redis is ${this.#redis.status}`);
      const [allowed, used, ttl] = await this.#redis.cicGqlCostTake(`${this.#prefix}cost:{${holder}}`, cost, this.pointsPerMinute, WINDOW_MS);
      return { allowed: allowed === 1, remaining: allowed === 1 ? Math.max(0, this.pointsPerMinute - used) : 0, retryAfterSeconds: Math.max(1, Math.ceil(ttl / 1000)) };
    } catch (err) {
      // Fail open, as inference's limiter does: a Redis outage must not take the dashboard down with it.
      if (Date.now() - this.#lastFailOpenLog > 5_000) {
        this.#lastFailOpenLog = Date.now();
        this.#log.warn({ err: (err as Error).message }, 'GraphQL cost budget unavailable: failing open');
      }
      return { allowed: true, remaining: this.pointsPerMinute, retryAfterSeconds: 0 };
    }
  }
}
