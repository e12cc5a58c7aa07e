import type { PrismaClient } from '@cic/db';
import { Counter, type Registry } from 'prom-client';
import { AppError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { TopicBus, Unsubscribe } from '../lib/topic-bus.ts';
import type { KeyBudgetLimits } from '../billing/key-budgets.ts';
import { keyMatchesHash, parseKey } from './key-format.ts';
import { effectiveKeyLimits, ORGANIZATION_RATE_LIMITS_SELECT, type OrganizationRateLimits, type PlatformRateLimits } from './rate-limit-ceilings.ts';

/** What a request knows about the key that authenticated it. */
export interface AuthenticatedKey {
  id: string;
  organizationId: string;
  prefix: string;
  scopes: string[];
  /**
   * What the rate limiter enforces: the key's own limits (or its organization's defaults), never above its
   * organization's ceilings. The ceilings are cached with the key, so no request waits on Postgres for them.
   */
  limits: { rpm: number; tpm: number };
  /** The key's spend budgets (micro-dollars per UTC day / month; null = none). */
  budgets: KeyBudgetLimits;
  /** Model names the key may call; empty = every model its organization may call. */
  allowedModels: string[];
}

interface CachedKey {
  id: string;
  organizationId: string;
  prefix: string;
  scopes: string[];
  rpmLimit: number | null;
  tpmLimit: number | null;
  dailyBudgetMicros: bigint | null;
  monthlyBudgetMicros: bigint | null;
  allowedModels: string[];
  organization: OrganizationRateLimits;
  secretHash: string;
  expiresAt: Date | null;
  revokedAt: Date | null;
}

interface CacheEntry {
  key: CachedKey | null;
  fetchedAt: number;
}

export interface KeyAuthenticatorOptions {
  prisma: PrismaClient;
  /** Brings `apiKeyChanged` from every instance and tells when events may have been missed. */
  bus: TopicBus;
  log: Logger;
  /** The platform's rate-limit defaults and ceilings (RATE_LIMIT_*), for organizations without their own. */
  platformLimits: PlatformRateLimits;
  /**
   * How long a looked-up key is trusted without asking the database. Revocations do not wait for it:
   * they arrive over pub/sub within milliseconds on every instance.
   * @defaultValue 30000
   */
  cacheTtlMs?: number;
  /**
   * How long an unknown prefix is remembered, so a flood of bad keys does not reach the database.
   * @defaultValue 2000
   */
  negativeTtlMs?: number;
  /**
   * How often `last_used_at` is written, in one statement for all keys used meanwhile.
   * @defaultValue 10000
   */
  lastUsedFlushMs?: number;
  /**
   * Stale-while-error: while Postgres cannot be asked, a key looked up at most this long ago is still
   * served from the cache, as long as the bus is listening (revocations keep arriving). Keys never seen,
   * or older than this, are answered 503 with Retry-After. 0 turns it off.
   * @defaultValue 900000 (15 minutes)
   */
  maxStaleMs?: number;
  /** Where the cache's metrics go; none when omitted. */
  registry?: Registry;
}

/** After a failed lookup, how long Postgres is not asked again (requests are served stale or refused meanwhile). */
const LOOKUP_BACKOFF_MS = 1_000;

const unavailable = () =>
  new AppError('UNAVAILABLE', 'API keys cannot be verified right now; retry shortly.', { detail: 'service_unavailable', headers: { 'retry-after': String(Math.ceil(LOOKUP_BACKOFF_MS / 1000)) } });

const invalid = () =>
  new AppError('UNAUTHENTICATED', 'Incorrect API key provided. Create or copy a key in the dashboard under API keys.', { detail: 'invalid_api_key' });

/**
 * Verifies `cic_…` API keys: lookup by prefix, constant-time hash check, revoked/expired refused.
 * Keys are cached in-process with their organization's rate-limit ceilings; `apiKeyChanged` events
 * (revoke, rotate, limit changes, and one per key of an organization whose ceilings change) evict them
 * on every instance at once. `last_used_at` is batched instead of written per request.
 */
export class KeyAuthenticator {
  readonly #prisma: PrismaClient;
  readonly #bus: TopicBus;
  readonly #log: Logger;
  readonly #platformLimits: PlatformRateLimits;
  readonly #cacheTtlMs: number;
  readonly #negativeTtlMs: number;
  readonly #maxStaleMs: number;
  readonly #metrics: { lookupFailures: Counter; served: Counter<'outcome'> } | null;
  /** Until when Postgres is not asked after a failed lookup. */
  #backoffUntil = 0;
  readonly #cache = new Map<string, CacheEntry>();
  readonly #inflight = new Map<string, Promise<CacheEntry>>();
  #lastUsed = new Map<string, Date>();
  #unsubscribe: Unsubscribe[] = [];
  /** Bumped whenever cached keys are dropped: a lookup that started before must not put back what it read. */
  #generation = 0;
  readonly #flushTimer: NodeJS.Timeout;

  constructor({ prisma, bus, log, platformLimits, cacheTtlMs = 30_000, negativeTtlMs = 2_000, lastUsedFlushMs = 10_000, maxStaleMs = 900_000, registry }: KeyAuthenticatorOptions) {
    this.#maxStaleMs = maxStaleMs;
    this.#metrics = registry
      ? {
          lookupFailures: new Counter({ name: 'cic_api_key_lookup_failures_total', help: 'API key lookups that failed because Postgres did not answer.', registers: [registry] }),
          served: new Counter({
            name: 'cic_api_key_outage_answers_total', help: 'Key checks answered while Postgres could not be asked: stale (served from the cache) or unavailable (503).',
            labelNames: ['outcome'], registers: [registry],
          }),
        }
      : null;
    this.#prisma = prisma;
    this.#bus = bus;
    this.#log = log;
    this.#platformLimits = platformLimits;
    this.#cacheTtlMs = cacheTtlMs;
    this.#negativeTtlMs = negativeTtlMs;
    this.#flushTimer = setInterval(() => void this.flushLastUsed(), lastUsedFlushMs);
    this.#flushTimer.unref();
  }

  /**
   * Follows `apiKeyChanged`. Never waits for Redis: while the bus is not listening, cached keys are
   * trusted only for the short negative TTL, and every resync empties the cache (a revocation published
   * while the subscription was down was missed).
   */
  async start(): Promise<void> {
    this.#unsubscribe = [
      this.#bus.subscribe('apiKeyChanged', ({ prefix }) => this.evict(prefix)),
      this.#bus.onResync(() => {
        this.#cache.clear();
        this.#generation++;
      }),
    ];
  }

  async stop(): Promise<void> {
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    clearInterval(this.#flushTimer);
    await this.flushLastUsed();
  }

  /** Drops a key from this instance's cache (others learn through `apiKeyChanged`). */
  evict(prefix: string): void {
    this.#cache.delete(prefix);
    this.#generation++;
  }

  /** The key behind an `Authorization: Bearer …` header value, or a 401 AppError. */
  async authenticate(presented: string): Promise<AuthenticatedKey> {
    const parsed = parseKey(presented);
    if (!parsed) throw invalid();
    const entry = await this.#lookup(parsed.prefix);
    const key = entry.key;
    if (!key || !keyMatchesHash(presented, key.secretHash)) throw invalid();
    if (key.revokedAt) throw new AppError('UNAUTHENTICATED', 'This API key has been revoked.', { detail: 'invalid_api_key' });
    if (key.expiresAt && key.expiresAt.getTime() <= Date.now()) {
      throw new AppError('UNAUTHENTICATED', 'This API key has expired.', { detail: 'invalid_api_key' });
    }
    this.#lastUsed.set(key.id, new Date());
    return {
      id: key.id, organizationId: key.organizationId, prefix: key.prefix, scopes: key.scopes,
      limits: effectiveKeyLimits(key, key.organization, this.#platformLimits),
      budgets: { dailyBudgetMicros: key.dailyBudgetMicros, monthlyBudgetMicros: key.monthlyBudgetMicros },
      allowedModels: key.allowedModels,
    };
  }

  async #lookup(prefix: string): Promise<CacheEntry> {
    const cached = this.#cache.get(prefix);
    const ttl = cached?.key && this.#bus.listening ? this.#cacheTtlMs : this.#negativeTtlMs;
    if (cached && Date.now() - cached.fetchedAt < ttl) return cached;
    if (Date.now() < this.#backoffUntil) return this.#staleOr503(cached);
    // Concurrent requests with the same new key share one query.
    let pending = this.#inflight.get(prefix);
    if (!pending) {
      const generation = this.#generation;
      pending = this.#prisma.apiKey
        .findUnique({
          where: { prefix },
          select: {
            id: true, organizationId: true, prefix: true, scopes: true, rpmLimit: true, tpmLimit: true, secretHash: true,
            dailyBudgetMicros: true, monthlyBudgetMicros: true, allowedModels: true, expiresAt: true, revokedAt: true,
            organization: { select: ORGANIZATION_RATE_LIMITS_SELECT },
          },
        })
        .then((key) => {
          const entry = { key, fetchedAt: Date.now() };
          if (generation === this.#generation) this.#cache.set(prefix, entry);
          return entry;
        })
        .finally(() => this.#inflight.delete(prefix));
      this.#inflight.set(prefix, pending);
    }
    try {
      return await pending;
    } catch (err) {
      if (err instanceof AppError) throw err;
      this.#metrics?.lookupFailures.inc();
      if (Date.now() >= this.#backoffUntil) this.#log.warn({ err }, 'API key lookup failed; serving cached keys while Postgres is unreachable');
      this.#backoffUntil = Date.now() + LOOKUP_BACKOFF_MS;
      return this.#staleOr503(this.#cache.get(prefix));
    }
  }

  /**
   * Postgres cannot be asked: a key it confirmed recently enough is served as cached, but only while the
   * bus is listening (a revocation would otherwise go unheard); a revoked one stays refused (cached as such).
   */
  #staleOr503(cached: CacheEntry | undefined): CacheEntry {
    if (cached?.key && this.#bus.listening && Date.now() - cached.fetchedAt < this.#maxStaleMs) {
      this.#metrics?.served.inc({ outcome: 'stale' });
      return cached;
    }
    this.#metrics?.served.inc({ outcome: 'unavailable' });
    throw unavailable();
  }

  /** Writes the batched `last_used_at` values in one statement. */
  async flushLastUsed(): Promise<void> {
    if (this.#lastUsed.size === 0) return;
    const batch = this.#lastUsed;
    this.#lastUsed = new Map();
    const ids = [...batch.keys()];
    const times = ids.map((id) => batch.get(id)!);
    try {
      await this.#prisma.$executeRaw`
        UPDATE api_keys AS k SET last_used_at = v.t
        FROM unnest(${ids}::text[], ${times}::timestamptz[]) AS v(id, t)
        WHERE k.id = v.id AND (k.last_used_at IS NULL OR k.last_used_at < v.t)`;
    } catch (err) {
      this.#log.warn({ err, keys: ids.length }, 'could not record last_used_at; will retry');
      for (const [id, t] of batch) if (!this.#lastUsed.has(id)) this.#lastUsed.set(id, t);
    }
  }
}
