import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '@cic/core/errors';
import { createHttpMetrics } from '../../src/http/metrics.ts';
import { Router } from '../../src/http/router.ts';
import { createHttpServer } from '../../src/http/server.ts';
import { registerStripeWebhookRoute } from '../../src/http/stripe-webhook-route.ts';
import { createRedis } from '@cic/core/lib/redis';
import { TopicBus } from '@cic/core/lib/topic-bus';
import { createBillingMetrics } from '@cic/core/billing/billing-metrics';
import { BalanceCache } from '@cic/core/billing/balance-cache';
import { createInferenceWorld, postJson, startSim, MODEL, type InferenceWorld } from '../inference/inference-fixture.ts';
import { createBillingWorld, deliver, silentLog, stripeEvent, succeededIntent, WEBHOOK_SECRET, type BillingWorld } from './billing-fixture.ts';
import { killSubscriber } from '../helpers/kill-subscriber.ts';

let w: BillingWorld;
let hookUrl: string;

beforeAll(async () => {
  w = await createBillingWorld();
  hookUrl = (await w.startWebhookServer()).url;
});
afterAll(async () => {
  await w?.close();
});

async function startCache(ttlMs?: number, bus = w.bus) {
  const cache = new BalanceCache({ prisma: w.prisma, bus, log: silentLog, ttlMs });
  await cache.start();
  await bus.settled();
  w.onClose(() => cache.stop());
  return cache;
}

const refusal = async (cache: BalanceCache, orgId: string) => {
  try {
    await cache.assertCanSpend(orgId);
    return null;
  } catch (err) {
    return err as AppError;
  }
};

describe('BalanceCache (CreditGate)', () => {
  it('lets an organization with credit spend and refuses one at or below zero with insufficient_quota', async () => {
    const cache = await startCache();
    const rich = await w.createOrg({ balanceMicros: 1n });
    const broke = await w.createOrg({ balanceMicros: 0n });
    const overdrawn = await w.createOrg({ balanceMicros: -5n });
    expect(await refusal(cache, rich.id)).toBeNull();
    for (const org of [broke, overdrawn]) {
      const err = await refusal(cache, org.id);
      expect(err).toBeInstanceOf(AppError);
      expect(err).toMatchObject({ code: 'INSUFFICIENT_QUOTA', detail: 'insufficient_quota', status: 402 });
    }
    // An organization without a billing account has nothing to spend.
    const bare = await w.prisma.organization.create({ data: { name: 'bare', slug: `bare-${rich.id}` } });
    expect(await refusal(cache, bare.id)).toMatchObject({ code: 'INSUFFICIENT_QUOTA' });
  });

  it('refuses a frozen organization whatever its balance', async () => {
    const cache = await startCache();
    const org = await w.createOrg({ balanceMicros: 50_000_000n });
    await w.prisma.organization.update({ where: { id: org.id }, data: { frozenAt: new Date(), frozenReason: 'payment dispute du_1' } });
    const err = await refusal(cache, org.id);
    expect(err).toMatchObject({ code: 'INSUFFICIENT_QUOTA', detail: 'insufficient_quota' });
    expect(err!.message).toContain('paused');
  });

  it('a purchase webhook lifts the refusal on another instance within a second (pub/sub)', async () => {
    const gateway = await startCache(60_000);
    const org = await w.createOrg({ balanceMicros: 0n });
    expect(await refusal(gateway, org.id)).not.toBeNull();
    const res = await deliver(hookUrl, stripeEvent('payment_intent.succeeded', succeededIntent({ organizationId: org.id, id: `pi_lift_${org.id}`, amountCents: 1_000 })));
    expect(res.status).toBe(200);
    await w.eventually(async () => (await refusal(gateway, org.id)) === null, 1_000);
    expect(gateway.peek(org.id)).toEqual({ balanceMicros: 10_000_000n, frozen: false });
  });

  it('answers from memory, and falls back to the database after the TTL when a change was not published', async () => {
    const cache = await startCache(200);
    const org = await w.createOrg({ balanceMicros: 0n });
    expect(await refusal(cache, org.id)).not.toBeNull();
    await w.prisma.billingAccount.update({ where: { organizationId: org.id }, data: { balanceMicros: 1_000n } });
    // No message was published: the cached refusal stands until the TTL passes.
    expect(await refusal(cache, org.id)).not.toBeNull();
    await w.eventually(async () => (await refusal(cache, org.id)) === null, 3_000);
  });

  it('reads every balance it holds again when its pub/sub connection comes back (a freeze may have been missed)', async () => {
    const bus = new TopicBus({ redis: w.redis, prefix: `${w.prefix}resync:`, log: silentLog });
    w.onClose(() => bus.close());
    const cache = await startCache(60_000, bus);
    const org = await w.createOrg({ balanceMicros: 10n });
    expect(await refusal(cache, org.id)).toBeNull();
    // Frozen while this cache's connection is away: its billingChanged is lost with the connection.
    await w.prisma.organization.update({ where: { id: org.id }, data: { frozenAt: new Date(), frozenReason: 'dispute' } });
    expect(await refusal(cache, org.id)).toBeNull(); // still trusted for a minute
    await killSubscriber(w.redis, bus);
    await w.eventually(async () => (await refusal(cache, org.id))?.code === 'INSUFFICIENT_QUOTA', 3_000);
  });

  it('starts and answers from the database while Redis is unreachable', async () => {
    const nowhere = createRedis('redis://127.0.0.1:1', silentLog);
    const bus = new TopicBus({ redis: nowhere, prefix: w.prefix, log: silentLog });
    const cache = new BalanceCache({ prisma: w.prisma, bus, log: silentLog });
    await cache.start();
    await bus.settled(); // answers at the first connection error instead of waiting for Redis
    w.onClose(async () => {
      await cache.stop();
      await bus.close();
      nowhere.disconnect();
    });
    const org = await w.createOrg({ balanceMicros: 10n });
    expect(await refusal(cache, org.id)).toBeNull();
  });

  it('ignores messages about organizations it never served and survives garbage on the channel', async () => {
    const cache = await startCache();
    await w.redis.publish(w.bus.channel('billingChanged', 'org_never_seen'), JSON.stringify({ organizationId: 'org_never_seen', balanceMicros: '5', frozen: false, low: false }));
    const org = await w.createOrg({ balanceMicros: 10n });
    expect(await refusal(cache, org.id)).toBeNull();
    await w.redis.publish(w.bus.channel('billingChanged', org.id), 'not json');
    expect(cache.peek('org_never_seen')).toBeUndefined();
    expect(await refusal(cache, org.id)).toBeNull();
  });
});

describe('402 through /v1 with the billing gate', () => {
  let iw: InferenceWorld;
  beforeAll(async () => {
    iw = await createInferenceWorld();
  });
  afterAll(async () => {
    await iw?.close();
  });

  it('an organization out of credits gets 402 insufficient_quota; a purchase webhook lifts it within a second', async () => {
    const sim = await startSim();
    try {
      await iw.addNode(sim.url);
      const key = await iw.createKey();
      // The inference world starts funded; this organization has spent it all.
      await iw.prisma.billingAccount.update({ where: { organizationId: iw.org.id }, data: { balanceMicros: 0n } });
      const cache = new BalanceCache({ prisma: iw.prisma, bus: w.bus, log: silentLog, ttlMs: 60_000 });
      await cache.start();
      const api = await iw.startApi({ creditGate: cache, redisUrl: w.redisUrl });
      const body = { model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 };
      await iw.eventually(async () => (await postJson(`${api.baseURL}/chat/completions`, body, key.secret)).status === 402);
      const refused = await postJson(`${api.baseURL}/chat/completions`, body, key.secret);
      expect(refused.status).toBe(402);
      expect(((await refused.json()) as { error: { type: string; code: string } }).error).toMatchObject({ type: 'insufficient_quota', code: 'insufficient_quota' });

      // The webhook server of this world writes to the inference world's database.
      const router = new Router();
      const http = createHttpMetrics();
      registerStripeWebhookRoute(router, { prisma: iw.prisma, bus: w.bus, metrics: createBillingMetrics({ registry: http.registry, prisma: iw.prisma }), webhookSecret: WEBHOOK_SECRET });
      const server = createHttpServer({ router, metrics: http, log: silentLog });
      const { url } = await server.listen(0, '127.0.0.1');
      try {
        const paid = await deliver(`${url}/webhooks/stripe`, stripeEvent('payment_intent.succeeded', succeededIntent({ organizationId: iw.org.id, id: 'pi_e2e', amountCents: 500 })));
        expect(paid.status).toBe(200);
        await iw.eventually(async () => (await postJson(`${api.baseURL}/chat/completions`, body, key.secret)).status === 200, 1_000);
      } finally {
        await server.close(1_000);
        await cache.stop();
      }
    } finally {
      await sim.close();
    }
  });

  it('buildApi enforces credits by default: a frozen organization gets 402 without any gate passed in', async () => {
    const sim = await startSim();
    try {
      await iw.addNode(sim.url);
      const key = await iw.createKey();
      await iw.prisma.billingAccount.update({ where: { organizationId: iw.org.id }, data: { balanceMicros: 1_000_000n } });
      await iw.prisma.organization.update({ where: { id: iw.org.id }, data: { frozenAt: new Date(), frozenReason: 'dispute' } });
      const api = await iw.startApi();
      const body = { model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 };
      const refused = await postJson(`${api.baseURL}/chat/completions`, body, key.secret);
      expect(refused.status).toBe(402);
      expect(((await refused.json()) as { error: { type: string } }).error.type).toBe('insufficient_quota');
    } finally {
      await iw.prisma.organization.update({ where: { id: iw.org.id }, data: { frozenAt: null, frozenReason: null } });
      await sim.close();
    }
  });
});
