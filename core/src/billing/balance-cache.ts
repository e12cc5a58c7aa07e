import type { PrismaClient } from '@cic/db';
import { AppError } from '../errors.ts';
import type { CreditGate } from './credit-gate.ts';
import type { Logger } from '../logger.ts';
import type { TopicBus, Unsubscribe } from '../lib/topic-bus.ts';
import type { TopicPayloads } from '../lib/topics.ts';
import type { BillingMetrics } from './billing-metrics.ts';

interface Entry {
  balanceMicros: bigint;
  frozenReason: string | null;
  frozen: boolean;
  fetchedAt: number;
}

export interface BalanceCacheOptions {
  prisma: PrismaClient;
  /** Brings `billingChanged` from every process and tells when events may have been missed. */
  bus: TopicBus;
  log: Logger;
  metrics?: BillingMetrics;
  /**
   * How long a balance is trusted without asking the database, in case a `billingChanged` message was
   * lost (dropped even though the connection stayed up: reconnects are handled by reloading). Past it the request is still answered from memory and a refresh runs behind it.
   * @defaultValue 5000
   */
  ttlMs?: number;
}

/**
 * The inference path's credit gate: an in-process map of {balance, frozen} per organization, loaded on
 * first use and kept current by `billingChanged:<orgId>` messages. Requests are checked against memory
 * only, so usage can overdraw by at most what the requests already in flight (and those admitted before
 * the next roll-up lands) cost.
 */
export class BalanceCache implements CreditGate {
  readonly #prisma: PrismaClient;
  readonly #bus: TopicBus;
  readonly #log: Logger;
  readonly #metrics: BillingMetrics | undefined;
  readonly #ttlMs: number;
  readonly #entries = new Map<string, Entry>();
  readonly #loading = new Map<string, Promise<Entry>>();
  /** Organizations whose state changed while a load was in flight: that load may have read too early. */
  readonly #changedDuringLoad = new Set<string>();
  #unsubscribe: Unsubscribe[] = [];

  constructor({ prisma, bus, log, metrics, ttlMs = 5_000 }: BalanceCacheOptions) {
    this.#prisma = prisma;
    this.#bus = bus;
    this.#log = log;
    this.#metrics = metrics;
    this.#ttlMs = ttlMs;
  }

  /** Follows every organization's `billingChanged`; never waits for Redis (until it is back, balances refresh every TTL). */
  async start(): Promise<void> {
    this.#unsubscribe = [
      this.#bus.subscribeAll('billingChanged', (payload, organizationId) => this.#onMessage(organizationId, payload)),
      // A freeze published while the subscription was down was missed: every balance is read again.
      this.#bus.onResync(() => {
        for (const organizationId of this.#loading.keys()) this.#changedDuringLoad.add(organizationId);
        for (const organizationId of this.#entries.keys()) this.#refreshInBackground(organizationId);
      }),
    ];
  }

  async stop(): Promise<void> {
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    await Promise.allSettled(this.#loading.values());
  }

  async assertCanSpend(organizationId: string): Promise<void> {
    let entry = this.#entries.get(organizationId);
    if (!entry) entry = await this.#load(organizationId);
    else if (Date.now() - entry.fetchedAt > this.#ttlMs) this.#refreshInBackground(organizationId);
    if (entry.frozen) {
      this.#metrics?.gateRefusals.inc({ reason: 'frozen' });
      const why = entry.frozenReason ? ` (${entry.frozenReason})` : '';
      throw new AppError('INSUFFICIENT_QUOTA', `Inference is paused for this organization${why}. Contact support to resolve it.`, { detail: 'insufficient_quota' });
    }
    if (entry.balanceMicros <= 0n) {
      this.#metrics?.gateRefusals.inc({ reason: 'no_credit' });
      throw new AppError('INSUFFICIENT_QUOTA', 'Your organization has no credits left. Buy credits in the dashboard under Billing.', { detail: 'insufficient_quota' });
    }
  }

  /** What this instance currently believes (tests, debugging). */
  peek(organizationId: string): { balanceMicros: bigint; frozen: boolean } | undefined {
    const e = this.#entries.get(organizationId);
    return e && { balanceMicros: e.balanceMicros, frozen: e.frozen };
  }

  #onMessage(organizationId: string, payload: TopicPayloads['billingChanged']): void {
    // A load already running may have read the row before this change committed: it must read again.
    if (this.#loading.has(organizationId)) this.#changedDuringLoad.add(organizationId);
    const cached = this.#entries.get(organizationId);
    if (!cached) return; // never served here: nothing to update
    try {
      this.#entries.set(organizationId, {
        balanceMicros: BigInt(payload.balanceMicros),
        frozen: payload.frozen,
        frozenReason: payload.frozen ? cached.frozenReason : null,
        fetchedAt: Date.now(),
      });
    } catch (err) {
      this.#log.warn({ err, organizationId }, 'unreadable billingChanged message');
    }
    // Messages from different publishers can arrive out of commit order; a read of the committed row settles it.
    this.#refreshInBackground(organizationId);
  }

  #refreshInBackground(organizationId: string): void {
    this.#load(organizationId).catch((err: unknown) => this.#log.warn({ err, organizationId }, 'balance refresh failed; keeping the cached value'));
  }

  #load(organizationId: string): Promise<Entry> {
    const pending = this.#loading.get(organizationId);
    if (pending) return pending;
    const run = (async () => {
      try {
        for (;;) {
          this.#changedDuringLoad.delete(organizationId);
          const entry = await this.#read(organizationId);
          this.#entries.set(organizationId, entry);
          if (!this.#changedDuringLoad.has(organizationId)) return entry;
        }
      } finally {
        this.#loading.delete(organizationId);
      }
    })();
    this.#loading.set(organizationId, run);
    return run;
  }

  async #read(organizationId: string): Promise<Entry> {
    const org = await this.#prisma.organization.findUnique({
      where: { id: organizationId },
      select: { frozenAt: true, frozenReason: true, billingAccount: { select: { balanceMicros: true } } },
    });
    return {
      balanceMicros: org?.billingAccount?.balanceMicros ?? 0n,
      frozen: org?.frozenAt != null,
      frozenReason: org?.frozenReason ?? null,
      fetchedAt: Date.now(),
    };
  }
}
