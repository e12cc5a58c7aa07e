import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { AppError } from '@cic/core/errors';
import type { Logger } from '@cic/core/logger';
import type { Viewer } from '@cic/core/auth/viewer';

/*
 * Open subscriptions per key/user and per organization, counted across API instances: each is a lease
 * in a Redis sorted set scored by its expiry. The instance holding it pushes the expiry forward while it
 * lives and removes it when it ends; leases of a crashed instance expire on their own after `leaseTtlMs`,
 * so a crash frees its slots within that time instead of leaking them forever.
 */
const ACQUIRE = `
local now = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  if redis.call('ZCARD', key) >= tonumber(ARGV[4 + i]) then return i end
end
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, ARGV[2], ARGV[3])
  redis.call('PEXPIRE', key, ARGV[4])
end
return 0`;


type ScriptRedis = Redis & {
  cicGqlSubsAcquire(...args: (string | number)[]): Promise<number>;
};

export type SubscriptionLimitKind = 'socket' | 'viewer' | 'organization';

export interface SubscriptionLimitsOptions {
  redis: Redis;
  /** Key prefix (GRAPHQL_REDIS_PREFIX). */
  prefix: string;
  maxPerViewer: number;
  maxPerOrganization: number;
  log: Logger;
  /** Counts a refusal (cic_graphql_subscriptions_refused_total). */
  onRefused: (limit: SubscriptionLimitKind) => void;
  /**
   * How long a lease outlives its last refresh: the longest a crashed instance's subscriptions keep
   * their slots. Refreshed every third of it.
   * @defaultValue 90000
   */
  leaseTtlMs?: number;
}

interface Lease {
  keys: string[];
  member: string;
}

/** The refusal every transport answers with when a cap is reached. */
export const subscriptionLimitError = (limit: SubscriptionLimitKind, max: number): AppError =>
  new AppError('SUBSCRIPTION_LIMIT', `Too many open subscriptions: at most ${max} per ${limit === 'viewer' ? 'API key or user' : limit}. Close one before opening another.`, { detail: limit });

export class SubscriptionLimits {
  readonly #redis: ScriptRedis;
  readonly #options: SubscriptionLimitsOptions;
  readonly #leaseTtlMs: number;
  readonly #instance = randomUUID();
  readonly #leases = new Set<Lease>();
  #nextLease = 0;
  #timer: NodeJS.Timeout | null = null;
  #lastFailOpenLog = 0;

  constructor(options: SubscriptionLimitsOptions) {
    // Called with the number of keys first: one (the key or user) or two (and its organization).
    options.redis.defineCommand('cicGqlSubsAcquire', { lua: ACQUIRE });
    this.#redis = options.redis as ScriptRedis;
    this.#options = options;
    this.#leaseTtlMs = options.leaseTtlMs ?? 90_000;
  }

  /**
   * Takes a slot for one subscription of `viewer` (and of its organization), or throws SUBSCRIPTION_LIMIT.
   * Returns the release, safe to call more than once. A Redis outage lets it through (logged): the
   * per-socket cap still holds, and subscriptions cannot receive events without Redis anyway.
   */
  async acquire(viewer: Viewer): Promise<() => void> {
    const owner = viewer.kind === 'apiKey' ? `key:${viewer.keyId}` : viewer.kind === 'user' ? `usr:${viewer.userId}` : null;
    if (!owner) throw new AppError('UNAUTHENTICATED', 'Authenticate to subscribe.');
    const organizationId = viewer.kind === 'apiKey' ? viewer.organizationId : viewer.selectedOrganizationId;
    const { prefix, maxPerViewer, maxPerOrganization } = this.#options;
    // One hash tag for both keys, so the script stays in one slot on a Redis Cluster too.
    // A user without an organization (a platform admin watching nodes) is held to its own cap only.
    const keys = [`${prefix}subs:{subs}:${owner}`, ...(organizationId ? [`${prefix}subs:{subs}:org:${organizationId}`] : [])];
    const lease: Lease = { keys, member: `${this.#instance}:${this.#nextLease++}` };
    try {
      if (this.#redis.status !== 'ready') throw new Error(`redis is ${this.#redis.status}`);
      const now = Date.now();
      const refused = await this.#redis.cicGqlSubsAcquire(keys.length, ...keys, now, now + this.#leaseTtlMs, lease.member, this.#leaseTtlMs, maxPerViewer, maxPerOrganization);
      if (refused === 1 || refused === 2) {
        const kind = refused === 1 ? 'viewer' : 'organization';
        this.#options.onRefused(kind);
        throw subscriptionLimitError(kind, refused === 1 ? maxPerViewer : maxPerOrganization);
      }
    } catch (err) {
      if (err instanceof AppError) throw err;
      if (Date.now() - this.#lastFailOpenLog > 5_000) {
        this.#lastFailOpenLog = Date.now();
        this.#options.log.warn({ err: (err as Error).message }, 'subscription counters unavailable: failing open');
      }
      return () => undefined;
    }
    this.#leases.add(lease);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#leases.delete(lease);
      this.#removeLeases([lease]);
    };
  }

  /** Keeps this instance's leases alive while it runs. */
  start(): void {
    this.#timer ??= setInterval(() => this.#refresh(), this.#leaseTtlMs / 3);
    this.#timer.unref();
  }

  /** Stops refreshing and frees every lease this instance holds (its sockets are closing). */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    const leases = [...this.#leases];
    this.#leases.clear();
    await this.#removeLeases(leases);
  }

  #refresh(): void {
    if (this.#leases.size === 0 || this.#redis.status !== 'ready') return;
    const expiry = Date.now() + this.#leaseTtlMs;
    const pipeline = this.#redis.pipeline();
    const keys = new Set<string>();
    for (const lease of this.#leases) {
      for (const key of lease.keys) {
        pipeline.zadd(key, 'XX', expiry, lease.member);
        keys.add(key);
      }
    }
    for (const key of keys) pipeline.pexpire(key, this.#leaseTtlMs);
    pipeline.exec().catch((err: unknown) => this.#options.log.warn({ err }, 'could not refresh subscription leases'));
  }

  async #removeLeases(leases: Lease[]): Promise<void> {
    if (leases.length === 0 || this.#redis.status !== 'ready') return;
    const pipeline = this.#redis.pipeline();
    for (const lease of leases) for (const key of lease.keys) pipeline.zrem(key, lease.member);
    // A lease not removed now expires on its own after leaseTtlMs.
    await pipeline.exec().catch((err: unknown) => this.#options.log.warn({ err }, 'could not release subscription leases'));
  }
}
