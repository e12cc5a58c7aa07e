import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/*
 * Fixed windows opened by the first request, one counter per email and one per client address. One
 * script checks both and takes both in a single step, so any number of API instances (and dashboard
 * replicas behind them) together admit the limits. Refused requests are not counted.
 */
const TAKE = `
local e = tonumber(redis.call('GET', KEYS[1]) or '0')
local c = tonumber(redis.call('GET', KEYS[2]) or '0')
local function ttl(key)
  local t = redis.call('PTTL', key)
  if t < 0 then return tonumber(ARGV[3]) end
  return t
end
if e >= tonumber(ARGV[1]) then return {0, 1, ttl(KEYS[1])} end
if c >= tonumber(ARGV[2]) then return {0, 2, ttl(KEYS[2])} end
if redis.call('INCR', KEYS[1]) == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
if redis.call('INCR', KEYS[2]) == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[3]) end
return {1, 0, 0}`;

type ScriptRedis = Redis & {
  cicSignInThrottle(emailKey: string, clientKey: string, perEmail: number, perClient: number, windowMs: number): Promise<number[]>;
};

export interface SignInThrottleOptions {
  redis: Redis;
  /** Key prefix (the API's `INFERENCE_REDIS_PREFIX`), so deployments and test runs sharing a Redis stay apart. */
  prefix: string;
  /** Sign-in links per email address per window (`SIGNIN_LINKS_PER_EMAIL`). */
  perEmail: number;
  /** Sign-in links per client address per window (`SIGNIN_LINKS_PER_CLIENT`). */
  perClient: number;
  /** Window length in seconds (`SIGNIN_LINK_WINDOW_SECONDS`). */
  windowSeconds: number;
}

export interface SignInThrottleDecision {
  allowed: boolean;
  /** Which counter refused: the email's or the client's; null when allowed. */
  limitedBy: 'email' | 'client' | null;
  /** Seconds until the refusing window closes (0 when allowed). */
  retryAfterSeconds: number;
}

/**
 * The counting unit of a client address: IPv4 (also IPv4-mapped IPv6) as is, IPv6 by its /64, which
 * one subscriber usually holds whole (counting single IPv6 addresses would let them rotate freely).
 */
export function clientBucket(address: string): string {
  const bare = address.trim().toLowerCase().replace(/%.*$/, '');
  const v4 = /^(?:::ffff:)?(\d{1,3}(?:\.\d{1,3}){3})$/.exec(bare);
  if (v4) return v4[1]!;
  if (!/^[0-9a-f:]+$/.test(bare) || !bare.includes(':')) return bare;
  const [head = '', tail = ''] = bare.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = bare.includes('::') ? [...h, ...Array<string>(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t] : h;
  return `${groups.slice(0, 4).map((g) => parseInt(g || '0', 16).toString(16)).join(':')}::/64`;
}

// Keys carry digests, not addresses: Redis never holds who asked. The shared {signin} hash tag keeps
// both keys in one Redis Cluster slot, which a script touching two keys needs.
const digest = (s: string) => createHash('sha256').update(s).digest('base64url');

/** Counts magic-link requests per email and per client address; `take` consumes one of each or refuses. */
export function createSignInThrottle({ redis, prefix, perEmail, perClient, windowSeconds }: SignInThrottleOptions) {
  redis.defineCommand('cicSignInThrottle', { numberOfKeys: 2, lua: TAKE });
  const scripts = redis as ScriptRedis;
  return {
    async take({ email, client }: { email: string; client: string }): Promise<SignInThrottleDecision> {
      const [allowed, which, ttlMs] = await scripts.cicSignInThrottle(
        `${prefix}{signin}:email:${digest(email.trim().toLowerCase())}`,
        `${prefix}{signin}:client:${digest(clientBucket(client))}`,
        perEmail, perClient, windowSeconds * 1000,
      );
      return {
        allowed: allowed === 1,
        limitedBy: which === 1 ? 'email' : which === 2 ? 'client' : null,
        retryAfterSeconds: Math.ceil((ttlMs ?? 0) / 1000),
      };
    },
  };
}

export type SignInThrottle = ReturnType<typeof createSignInThrottle>;
