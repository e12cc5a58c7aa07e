import type { Redis } from 'ioredis';
import { Counter, type Registry } from 'prom-client';
import { AppError } from '../errors.ts';
import type { Logger } from '../logger.ts';

/*
 * A key's spend per UTC day and per UTC month, as two counters in Redis (micro-dollars). One script
 * checks both budgets and reserves the request's maximum cost in a single atomic step, so any number of
 * requests on any number of API instances see each other's reservations: a request is admitted only while
 * the window's spend (settled plus reserved) is below the budget, so together they pass it by less than one
 * request's maximum. Settling replaces the reservation with the real cost in the window it was taken from.
 */
const RESERVE = `
local d = tonumber(redis.call('GET', KEYS[1]) or '0')
local m = tonumber(redis.call('GET', KEYS[2]) or '0')
local daily = tonumber(ARGV[1])
local monthly = tonumber(ARGV[2])
if daily >= 0 and d >= daily then return {0, 1, d, m} end
if monthly >= 0 and m >= monthly then return {0, 2, d, m} end
d = redis.call('INCRBY', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
m = redis.call('INCRBY', KEYS[2], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[5])
return {1, 0, d, m}`;

/** Adjusts live windows only: one that expired must not come back without a TTL. */
const SETTLE = `
for i = 1, 2 do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    local v = redis.call('INCRBY', KEYS[i], ARGV[1])
    if v < 0 then redis.call('SET', KEYS[i], 0, 'KEEPTTL') end
  end
end
return 0`;

type ScriptRedis = Redis & {
  cicBudgetReserve(dk: string, mk: string, daily: number, monthly: number, cost: number, dayTtlMs: number, monthTtlMs: number): Promise<number[]>;
  cicBudgetSettle(dk: string, mk: string, delta: number): Promise<number>;
};

/** A key's budgets in micro-dollars; null = none for that window. */
export interface KeyBudgetLimits {
  dailyBudgetMicros: bigint | null;
  monthlyBudgetMicros: bigint | null;
}

/** What one admitted request holds until it ends: call `settle` exactly once with its real cost. */
export interface BudgetReservation {
  settle(actualMicros: number): void;
}

export interface KeyBudgetsOptions {
  /** A hot-path connection (auto-pipelined, with a command timeout). */
  redis: Redis;
  /** Prefix of every Redis key (the API's INFERENCE_REDIS_PREFIX). */
  prefix: string;
  log: Logger;
  registry?: Registry;
  /**
   * The clock that picks the UTC day and month windows (tests move it).
   * @defaultValue () => new Date()
   */
  now?: () => Date;
}

/** Windows outlive their UTC day/month by this much, so a long request settles into the window it started in. */
const WINDOW_GRACE_MS = 86_400_000;

const usd = (micros: bigint): string => `$${(Number(micros) / 1e6).toFixed(2)}`;

/** The Redis keys of a key's day and month windows at `at` (UTC), and how long each must live from then. */
export function budgetWindows(prefix: string, keyId: string, at: Date) {
  const iso = at.toISOString();
  const nextDay = Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate() + 1);
  const nextMonth = Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 1);
  return {
    dayKey: `${prefix}kb:{${keyId}}:d:${iso.slice(0, 10)}`,
    monthKey: `${prefix}kb:{${keyId}}:m:${iso.slice(0, 7)}`,
    dayTtlMs: nextDay - at.getTime() + WINDOW_GRACE_MS,
    monthTtlMs: nextMonth - at.getTime() + WINDOW_GRACE_MS,
  };
}

/** Whether a key has a budget at all (keys without one never touch Redis for it). */
export const hasBudget = (limits: KeyBudgetLimits): boolean => limits.dailyBudgetMicros !== null || limits.monthlyBudgetMicros !== null;

/**
 * Per-key spend budgets for the inference path. A Redis outage fails open (as the rate limiter does), counted
 * in `cic_key_budget_fail_open_total`: inference stays up, and the organization's credit gate still holds.
 */
export function createKeyBudgets({ redis, prefix, log, registry, now = () => new Date() }: KeyBudgetsOptions) {
  const scripts = redis as ScriptRedis;
  redis.defineCommand('cicBudgetReserve', { numberOfKeys: 2, lua: RESERVE });
  redis.defineCommand('cicBudgetSettle', { numberOfKeys: 2, lua: SETTLE });
  const refusals = new Counter({ name: 'cic_key_budget_refusals_total', help: 'Requests refused because their API key reached its daily or monthly budget.', labelNames: ['window'], registers: registry ? [registry] : [] });
  const failOpen = new Counter({ name: 'cic_key_budget_fail_open_total', help: 'Budget checks let through because Redis did not answer.', registers: registry ? [registry] : [] });
  const pending = new Set<Promise<unknown>>();
  let lastFailOpenLog = 0;

  const track = (p: Promise<unknown>): void => {
    const tracked = p.catch((err: unknown) => log.warn({ err: (err as Error).message }, 'could not settle a key budget reservation')).finally(() => pending.delete(tracked));
    pending.add(tracked);
  };

  return {
    /**
     * Reserves `maxCostMicros` against the key's budgets, or throws BUDGET_EXCEEDED (429, OpenAI's
     * `insufficient_quota`, `x-should-retry: false`). Returns null for a key without budgets.
     */
    async reserve(keyId: string, limits: KeyBudgetLimits, maxCostMicros: number): Promise<BudgetReservation | null> {
      if (!hasBudget(limits)) return null;
      const { dayKey, monthKey, dayTtlMs, monthTtlMs } = budgetWindows(prefix, keyId, now());
      let out: number[];
      try {
        if (redis.status !== 'ready') throw new Error(`redis is ${redis.status}`);
        out = await scripts.cicBudgetReserve(dayKey, monthKey, Number(limits.dailyBudgetMicros ?? -1n), Number(limits.monthlyBudgetMicros ?? -1n), maxCostMicros, dayTtlMs, monthTtlMs);
      } catch (err) {
        failOpen.inc();
        if (Date.now() - lastFailOpenLog > 5_000) {
          lastFailOpenLog = Date.now();
          log.warn({ err: (err as Error).message }, 'key budgets unavailable: failing open');
        }
        return null;
      }
      const [allowed, window] = out as [number, number];
      if (allowed !== 1) {
        const daily = window === 1;
        refusals.inc({ window: daily ? 'day' : 'month' });
        const budget = daily ? limits.dailyBudgetMicros! : limits.monthlyBudgetMicros!;
        throw new AppError('BUDGET_EXCEEDED', daily
          ? `This API key has reached its daily budget of ${usd(budget)}; it resets at 00:00 UTC. An admin can raise it in the dashboard under API keys.`
          : `This API key has reached its monthly budget of ${usd(budget)}; it resets on the 1st at 00:00 UTC. An admin can raise it in the dashboard under API keys.`, {
          detail: 'insufficient_quota', headers: { 'x-should-retry': 'false' },
        });
      }
      let settled = false;
      return {
        settle(actualMicros: number): void {
          if (settled) return;
          settled = true;
          const delta = Math.round(actualMicros) - maxCostMicros;
          if (delta !== 0) track(scripts.cicBudgetSettle(dayKey, monthKey, delta));
        },
      };
    },
    /** Waits for settlements still on their way to Redis (call before closing its connection). */
    async drain(): Promise<void> {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
  };
}

export type KeyBudgets = ReturnType<typeof createKeyBudgets>;
