import type { ChainableCommander, Redis } from 'ioredis';
import type { Logger } from '@cic/core/logger';
import type { InferenceMetrics } from './inference-metrics.ts';

/*
 * Fixed one-minute windows per key, opened by the key's first request (INCR + PEXPIRE), for requests and
 * for tokens. One script checks both counters and takes both in a single atomic step, so any number of
 * API instances sharing Redis together admit the limit. A request's token cost is its prompt estimate
 * plus its max_tokens; once the answer's real usage is known the difference is given back (or taken).
 * When it admits, the same script stores the request's admission entry (KEYS[3], field ARGV[5]), adds
 * the instance (ARGV[7]) to the set recovery scans (KEYS[4]) and refreshes its liveness key (KEYS[5], for
 * ARGV[8] ms), so that a request admitted is always journaled where recovery finds it, and never taken for
 * a dead instance's, even before the instance's first heartbeat (admission-journal.ts); the keys must live
 * on one Redis, not a cluster.
 */
const ACQUIRE = `
local window = tonumber(ARGV[4])
local r = tonumber(redis.call('GET', KEYS[1]) or '0')
local t = tonumber(redis.call('GET', KEYS[2]) or '0')
local rttl = redis.call('PTTL', KEYS[1])
if rttl < 0 then rttl = window end
local tttl = redis.call('PTTL', KEYS[2])
if tttl < 0 then tttl = window end
if r + 1 > tonumber(ARGV[1]) then return {0, 1, r, t, rttl, tttl} end
if t + tonumber(ARGV[3]) > tonumber(ARGV[2]) then return {0, 2, r, t, rttl, tttl} end
r = redis.call('INCR', KEYS[1])
if r == 1 then redis.call('PEXPIRE', KEYS[1], window) end
t = redis.call('INCRBY', KEYS[2], ARGV[3])
if t == tonumber(ARGV[3]) then redis.call('PEXPIRE', KEYS[2], window) end
if ARGV[5] ~= '' then
  redis.call('HSET', KEYS[3], ARGV[5], ARGV[6])
  redis.call('SADD', KEYS[4], ARGV[7])
  redis.call('SET', KEYS[5], '1', 'PX', ARGV[8])
end
return {1, 0, r, t, rttl, tttl}`;

/** Adjusts the token counter of a live window only: an expired one must not come back without a TTL. */
const ADJUST = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local t = redis.call('INCRBY', KEYS[1], ARGV[1])
if t < 0 then redis.call('SET', KEYS[1], 0, 'KEEPTTL') end
return t`;

const WINDOW_MS = 60_000;

type ScriptRedis = Redis & {
  cicRateAcquire(rk: string, tk: string, jk: string, ik: string, lk: string, rpm: number, tpm: number, cost: number, windowMs: number, jf: string, jv: string, instanceId: string, liveMs: number): Promise<number[]>;
  cicRateAdjust(tk: string, delta: number): Promise<number>;
};

export interface RateDecision {
  allowed: boolean;
  /** Which limit refused the request. */
  kind: 'requests' | 'tokens' | null;
  /** True when Redis could not answer and the request was let through (fail open). */
  failedOpen: boolean;
  headers: Record<string, string>;
  retryAfterSeconds: number;
}

/** Where the acquire script journals an admitted request (admission-journal.ts). */
export interface AdmissionRecord {
  /** The instance's journal hash, and the entry's field and value in it. */
  key: string;
  field: string;
  value: string;
  /** The set of instances recovery scans, and this instance's id in it. */
  instances: string;
  instanceId: string;
  /** This instance's liveness key and how long it lives. */
  live: string;
  liveMs: number;
}

export interface RateLimiterOptions {
  redis: Redis;
  prefix: string;
  log: Logger;
  metrics: InferenceMetrics;
}

const duration = (ms: number): string => `${Math.max(0, Math.ceil(ms / 1000))}s`;

/** How long this instance trusts the last answer it got for a key when guessing the next one. */
const HINT_TTL_MS = 1_000;
const MAX_HINTS = 10_000;

export function createRateLimiter({ redis, prefix, log, metrics }: RateLimiterOptions) {
  const scripts = redis as ScriptRedis;
  redis.defineCommand('cicRateAcquire', { numberOfKeys: 5, lua: ACQUIRE });
  redis.defineCommand('cicRateAdjust', { numberOfKeys: 1, lua: ADJUST });
  const keysOf = (keyId: string) => [`${prefix}rl:{${keyId}}:r`, `${prefix}rl:{${keyId}}:t`] as const;
  let lastFailOpenLog = 0;
  // What Redis last said was left for each key, so a request far from its limits can be dispatched
  // while the script runs (see likelyAllows).
  const hints = new Map<string, { requests: number; tokens: number; at: number }>();

  function headersOf(rpm: number, tpm: number, r: number, t: number, rttl: number, tttl: number): Record<string, string> {
    return {
      'x-ratelimit-limit-requests': String(rpm),
      'x-ratelimit-remaining-requests': String(Math.max(0, rpm - r)),
      'x-ratelimit-reset-requests': duration(rttl),
      'x-ratelimit-limit-tokens': String(tpm),
      'x-ratelimit-remaining-tokens': String(Math.max(0, tpm - t)),
      'x-ratelimit-reset-tokens': duration(tttl),
    };
  }

  return {
    /** Takes one request and `tokens` tokens from the key's windows, or says why not; when admitted, stores `journal`'s field. */
    async acquire(keyId: string, limits: { rpm: number; tpm: number }, tokens: number, journal?: AdmissionRecord): Promise<RateDecision> {
      const [rk, tk] = keysOf(keyId);
      try {
        // A disconnected client would queue the call until reconnect: answer at once instead.
        if (redis.status !== 'ready') throw new Error(`redis is ${redis.status}`);
        // A hung Redis is cut off by the connection's commandTimeout (RATE_LIMIT_TIMEOUT_MS).
        const out = journal
          ? await scripts.cicRateAcquire(rk, tk, journal.key, journal.instances, journal.live, limits.rpm, limits.tpm, tokens, WINDOW_MS, journal.field, journal.value, journal.instanceId, journal.liveMs)
          : await scripts.cicRateAcquire(rk, tk, tk, tk, tk, limits.rpm, limits.tpm, tokens, WINDOW_MS, '', '', '', 0);
        const [allowed, kind, r, t, rttl, tttl] = out as [number, number, number, number, number, number];
        const refusedBy = kind === 1 ? 'requests' : kind === 2 ? 'tokens' : null;
        if (refusedBy) metrics.rateLimitRejections.inc({ kind: refusedBy });
        if (hints.size >= MAX_HINTS) hints.clear();
        hints.set(keyId, { requests: limits.rpm - r, tokens: limits.tpm - t, at: Date.now() });
        return {
          allowed: allowed === 1,
          kind: refusedBy,
          failedOpen: false,
          headers: headersOf(limits.rpm, limits.tpm, r, t, rttl, tttl),
          retryAfterSeconds: Math.max(1, Math.ceil((kind === 2 ? tttl : rttl) / 1000)),
        };
      } catch (err) {
        // Fail open: a Redis outage must not take inference down with it (as Stripe's limiter does).
        metrics.rateLimitFailOpen.inc();
        if (Date.now() - lastFailOpenLog > 5_000) {
          lastFailOpenLog = Date.now();
          log.warn({ err: (err as Error).message }, 'rate limiter unavailable: failing open');
        }
        return { allowed: true, kind: null, failedOpen: true, headers: headersOf(limits.rpm, limits.tpm, 0, 0, WINDOW_MS, WINDOW_MS), retryAfterSeconds: 0 };
      }
    },
    /**
     * Whether the key was, a moment ago, far enough from both limits that this request will almost surely
     * be admitted. Only then may the proxy start the upstream call before the script answers (saving a
     * Redis round trip of time to first token); a key near its limit always waits for the verdict, so a
     * client hammering past its limit never reaches a node.
     */
    likelyAllows(keyId: string, limits: { rpm: number; tpm: number }, tokens: number): boolean {
      const hint = hints.get(keyId);
      if (!hint || Date.now() - hint.at > HINT_TTL_MS) return false;
      return hint.requests > Math.max(8, limits.rpm * 0.1) && hint.tokens > 4 * tokens + limits.tpm * 0.1;
    },
    /** Queues the correction of a request's token estimate on a pipeline (sent with the usage record). */
    adjust(pipeline: ChainableCommander, keyId: string, delta: number): void {
      if (delta === 0) return;
      (pipeline as unknown as { cicRateAdjust(k: string, d: number): void }).cicRateAdjust(keysOf(keyId)[1], delta);
    },
  };
}

export type RateLimiter = ReturnType<typeof createRateLimiter>;
