import { randomBytes } from 'node:crypto';
import { createTestDatabase, testRedis, type TestDatabase } from '@cic/db/testing';
import { Redis } from 'ioredis';
import { pino, type Logger } from 'pino';
import { Registry } from 'prom-client';
import Stripe from 'stripe';
import { createHttpMetrics } from '../../src/http/metrics.ts';
import { eventually as pollUntil } from '../helpers/eventually.ts';
import { Router } from '../../src/http/router.ts';
import { createHttpServer } from '../../src/http/server.ts';
import { registerStripeWebhookRoute, type StripeWebhookRouteOptions } from '../../src/http/stripe-webhook-route.ts';
import type { ApiKeyViewer, UserViewer } from '@cic/core/auth/viewer';
import { createBillingMetrics } from '@cic/core/billing/billing-metrics';
import { TopicBus } from '@cic/core/lib/topic-bus';

export const WEBHOOK_SECRET = 'whsec_test_billing_fixture';
export const silentLog = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** One test file's world: its own database, Redis connections and helpers to make organizations and events. */
export async function createBillingWorld() {
  const db: TestDatabase = await createTestDatabase();
  const { url: redisUrl, prefix } = testRedis();
  const redis = new Redis(redisUrl, { lazyConnect: false });
  // Channels carry the file's prefix too, so other test files' billing events never reach this one.
  const bus = new TopicBus({ redis, prefix, log: silentLog });
  const closers: (() => Promise<unknown>)[] = [];

  async function createOrg(options: { balanceMicros?: bigint; customerId?: string; lowBalanceMicros?: bigint } = {}) {
    const slug = `org-${randomBytes(4).toString('hex')}`;
    return db.prisma.organization.create({
      data: {
        name: `Org ${slug}`, slug,
        billingAccount: { create: { balanceMicros: options.balanceMicros ?? 0n, stripeCustomerId: options.customerId ?? null, lowBalanceMicros: options.lowBalanceMicros ?? 5_000_000n } },
      },
    });
  }

  async function createUser(options: { admin?: boolean; organizationId?: string; role?: 'OWNER' | 'ADMIN' | 'MEMBER' } = {}) {
    const user = await db.prisma.user.create({ data: { email: `u-${randomBytes(4).toString('hex')}@example.test`, isPlatformAdmin: options.admin ?? false } });
    if (options.organizationId) await db.prisma.membership.create({ data: { userId: user.id, organizationId: options.organizationId, role: options.role ?? 'OWNER' } });
    return user;
  }

  /** The webhook route on a real HTTP server of ours (the same code buildApi mounts), with optional test hook and logger. */
  async function startWebhookServer({ log = silentLog, ...options }: Partial<Pick<StripeWebhookRouteOptions, 'beforeCommit' | 'webhookSecret'>> & { log?: Logger } = {}) {
    const router = new Router();
    const registry = new Registry();
    const metrics = createBillingMetrics({ registry, prisma: db.prisma });
    registerStripeWebhookRoute(router, { prisma: db.prisma, bus, metrics, webhookSecret: WEBHOOK_SECRET, ...options });
    const server = createHttpServer({ router, metrics: createHttpMetrics(), log });
    const { url } = await server.listen(0, '127.0.0.1');
    closers.push(() => server.close(1_000));
    return { url: `${url}/webhooks/stripe`, registry, metrics };
  }

  /** Polls until `check` returns a truthy value (5 s by default in billing tests). */
  const eventually = <T>(check: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeoutMs = 5_000) => pollUntil(check, timeoutMs);

  const balanceOf = async (organizationId: string) =>
    (await db.prisma.billingAccount.findUniqueOrThrow({ where: { organizationId } })).balanceMicros;

  return {
    db, prisma: db.prisma, redis, bus, redisUrl, prefix, createOrg, createUser, startWebhookServer, eventually, balanceOf,
    onClose(fn: () => Promise<unknown>) {
      closers.push(fn);
    },
    async close() {
      for (const c of closers.reverse()) await c().catch(() => undefined);
      await bus.close();
      redis.disconnect();
      await db.drop();
    },
  };
}

export type BillingWorld = Awaited<ReturnType<typeof createBillingWorld>>;

let seq = 0;
const evtId = () => `evt_${randomBytes(8).toString('hex')}_${++seq}`;

/** A Stripe event envelope around `object`, shaped as Stripe sends it. */
export function stripeEvent(type: string, object: Record<string, unknown>, id = evtId()) {
  return { id, object: 'event', api_version: Stripe.API_VERSION, created: Math.floor(Date.now() / 1000), livemode: false, pending_webhooks: 1, request: { id: null, idempotency_key: null }, type, data: { object } };
}

/** Sends a body signed offline as Stripe would (or with the given timestamp / secret). */
export async function deliver(url: string, event: unknown, options: { timestamp?: number; secret?: string; tamper?: (body: string) => string } = {}) {
  const payload = JSON.stringify(event);
  const header = Stripe.webhooks.generateTestHeaderString({ payload, secret: options.secret ?? WEBHOOK_SECRET, timestamp: options.timestamp });
  const body = options.tamper ? options.tamper(payload) : payload;
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': header }, body });
}

export const paidSession = (o: { organizationId?: string; paymentIntentId: string; amountCents: number; customer?: string | null }) => ({
  id: `cs_test_${randomBytes(6).toString('hex')}`, object: 'checkout.session', mode: 'payment', payment_status: 'paid', status: 'complete',
  amount_total: o.amountCents, currency: 'usd', customer: o.customer ?? null, payment_intent: o.paymentIntentId,
  metadata: o.organizationId ? { organizationId: o.organizationId } : {},
});

export const succeededIntent = (o: { organizationId?: string; id: string; amountCents: number; customer?: string | null }) => ({
  id: o.id, object: 'payment_intent', status: 'succeeded', amount: o.amountCents, amount_received: o.amountCents, currency: 'usd',
  customer: o.customer ?? null, metadata: o.organizationId ? { organizationId: o.organizationId } : {},
});

export const refundedCharge = (o: { paymentIntentId: string; customer?: string | null; organizationId?: string; amountCents: number; refunds?: { id: string; amount: number }[] | null; amountRefunded: number }) => ({
  id: `ch_${o.paymentIntentId.slice(3)}`, object: 'charge', amount: o.amountCents, amount_refunded: o.amountRefunded, currency: 'usd', refunded: o.amountRefunded === o.amountCents,
  customer: o.customer ?? null, payment_intent: o.paymentIntentId, metadata: o.organizationId ? { organizationId: o.organizationId } : {},
  ...(o.refunds ? { refunds: { object: 'list', has_more: false, data: o.refunds.map((r) => ({ id: r.id, object: 'refund', amount: r.amount, currency: 'usd', status: 'succeeded' })) } } : {}),
});

/** A refund that failed after it was issued (its money returned to our Stripe balance). */
export const failedRefund = (o: { id: string; paymentIntentId: string; amountCents: number; currency?: string }) => ({
  id: o.id, object: 'refund', amount: o.amountCents, currency: o.currency ?? 'usd', status: 'failed', failure_reason: 'expired_or_canceled_card',
  charge: `ch_${o.paymentIntentId.slice(3)}`, payment_intent: o.paymentIntentId, metadata: {},
});

export const dispute = (o: { id: string; paymentIntentId: string; amountCents: number; status: string }) => ({
  id: o.id, object: 'dispute', amount: o.amountCents, currency: 'usd', status: o.status, reason: 'fraudulent',
  charge: `ch_${o.paymentIntentId.slice(3)}`, payment_intent: o.paymentIntentId, metadata: {},
});

/** A signed-in dashboard user as the GraphQL layer builds it. */
export const userViewer = (o: { userId?: string; admin?: boolean; roles?: Record<string, 'OWNER' | 'ADMIN' | 'MEMBER'> } = {}): UserViewer => ({
  kind: 'user', userId: o.userId ?? `usr_${randomBytes(6).toString('hex')}`, isPlatformAdmin: o.admin ?? false,
  roles: new Map(Object.entries(o.roles ?? {})), selectedOrganizationId: null, expiresAt: new Date(Date.now() + 3_600_000),
});

/** An organization's API key with the graphql scope (MEMBER rights). */
export const keyViewer = (organizationId: string): ApiKeyViewer => ({
  kind: 'apiKey', keyId: `key_${randomBytes(6).toString('hex')}`, prefix: 'testprefix00', organizationId, selectedOrganizationId: organizationId,
});
