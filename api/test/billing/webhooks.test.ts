import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBillingWorld, deliver, failedRefund, paidSession, refundedCharge, stripeEvent, succeededIntent, type BillingWorld } from './billing-fixture.ts';

interface Ack { received: boolean; outcome: string }

let w: BillingWorld;
let hook: { url: string; registry: import('prom-client').Registry };

beforeAll(async () => {
  w = await createBillingWorld();
  hook = await w.startWebhookServer();
});
afterAll(async () => {
  await w?.close();
});

const entriesOf = (organizationId: string) => w.prisma.ledgerEntry.findMany({ where: { organizationId }, orderBy: { createdAt: 'asc' } });
const eventRow = (id: string) => w.prisma.stripeEvent.findUnique({ where: { id } });

describe('POST /webhooks/stripe: signature', () => {
  it('applies a valid checkout.session.completed once, keyed by the payment intent', async () => {
    const org = await w.createOrg();
    const event = stripeEvent('checkout.session.completed', paidSession({ organizationId: org.id, paymentIntentId: 'pi_valid_1', amountCents: 2_500 }));
    const res = await deliver(hook.url, event);
    expect(res.status).toBe(200);
    expect((await res.json()) as Ack).toEqual({ received: true, outcome: 'applied' });
    expect(await w.balanceOf(org.id)).toBe(25_000_000n);
    expect(await entriesOf(org.id)).toEqual([expect.objectContaining({ type: 'PURCHASE', amountMicros: 25_000_000n, sourceId: 'pi_valid_1' })]);
    expect(await eventRow(event.id)).toMatchObject({ type: 'checkout.session.completed' });

    // Stripe also sends payment_intent.succeeded for the same payment: no second credit.
    const twin = await deliver(hook.url, stripeEvent('payment_intent.succeeded', succeededIntent({ organizationId: org.id, id: 'pi_valid_1', amountCents: 2_500 })));
    expect(((await twin.json()) as Ack).outcome).toBe('ignored');
    expect(await w.balanceOf(org.id)).toBe(25_000_000n);
  });

  it('refuses a tampered body with 400 and records nothing', async () => {
    const org = await w.createOrg();
    const event = stripeEvent('payment_intent.succeeded', succeededIntent({ organizationId: org.id, id: 'pi_tamper', amountCents: 500 }));
    const res = await deliver(hook.url, event, { tamper: (b) => b.replace('"amount_received":500', '"amount_received":900000') });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('BAD_REQUEST');
    expect(await eventRow(event.id)).toBeNull();
    expect(await w.balanceOf(org.id)).toBe(0n);
  });

  it('refuses a signature older than 300 s (replay) with 400', async () => {
    const org = await w.createOrg();
    const event = stripeEvent('payment_intent.succeeded', succeededIntent({ organizationId: org.id, id: 'pi_old', amountCents: 500 }));
    const res = await deliver(hook.url, event, { timestamp: Math.floor(Date.now() / 1000) - 301 });
    expect(res.status).toBe(400);
    expect(await eventRow(event.id)).toBeNull();
    // Inside the window it is accepted.
    expect((await deliver(hook.url, event, { timestamp: Math.floor(Date.now() / 1000) - 240 })).status).toBe(200);
  });

  it('refuses another secret and a missing signature header', async () => {
    const event = stripeEvent('customer.created', { id: 'cus_x', object: 'customer' });
    expect((await deliver(hook.url, event, { secret: 'whsec_someone_else' })).status).toBe(400);
    const res = await fetch(hook.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(event) });
    expect(res.status).toBe(400);
  });

  it('refuses bodies over the size limit with 413', async () => {
    const res = await deliver(hook.url, stripeEvent('customer.created', { id: 'cus_big', object: 'customer', padding: 'x'.repeat(1_100_000) }));
    expect(res.status).toBe(413);
  });

  it('answers 503 when no webhook secret is configured', async () => {
    const off = await w.startWebhookServer({ webhookSecret: undefined });
    const res = await deliver(off.url, stripeEvent('customer.created', { id: 'cus_y', object: 'customer' }));
    expect(res.status).toBe(503);
  });
});

describe('POST /webhooks/stripe: idempotency and ordering', () => {
  it('the same event delivered twice credits once', async () => {
    const org = await w.createOrg();
    const event = stripeEvent('payment_intent.succeeded', succeededIntent({ organizationId: org.id, id: 'pi_twice', amountCents: 1_000 }));
    expect(((await (await deliver(hook.url, event)).json()) as Ack).outcome).toBe('applied');
    expect(((await (await deliver(hook.url, event)).json()) as Ack).outcome).toBe('duplicate');
    expect(await entriesOf(org.id)).toHaveLength(1);
    expect(await w.balanceOf(org.id)).toBe(10_000_000n);
  });

  it('concurrent deliveries of one event (and of its twin event) post exactly one ledger entry', async () => {
    const org = await w.createOrg();
    const event = stripeEvent('checkout.session.completed', paidSession({ organizationId: org.id, paymentIntentId: 'pi_race', amountCents: 700 }));
    const twin = stripeEvent('payment_intent.succeeded', succeededIntent({ organizationId: org.id, id: 'pi_race', amountCents: 700 }));
    const results = await Promise.all([event, event, event, twin, twin].map((e) => deliver(hook.url, e)));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    const outcomes = await Promise.all(results.map(async (r) => ((await r.json()) as Ack).outcome));
    expect(outcomes.filter((o) => o === 'applied')).toHaveLength(1);
    expect(await entriesOf(org.id)).toHaveLength(1);
    expect(await w.balanceOf(org.id)).toBe(7_000_000n);
  });

  it('a refund that arrives before its purchase converges to the same balance (refund ids)', async () => {
    const org = await w.createOrg({ customerId: 'cus_ooo_1' });
    const refund = stripeEvent('charge.refunded', refundedCharge({ paymentIntentId: 'pi_ooo_1', customer: 'cus_ooo_1', amountCents: 2_000, amountRefunded: 500, refunds: [{ id: 're_ooo_1', amount: 500 }] }));
    const purchase = stripeEvent('checkout.session.completed', paidSession({ organizationId: org.id, customer: 'cus_ooo_1', paymentIntentId: 'pi_ooo_1', amountCents: 2_000 }));
    expect((await deliver(hook.url, refund)).status).toBe(200);
    expect(await w.balanceOf(org.id)).toBe(-5_000_000n);
    expect((await deliver(hook.url, purchase)).status).toBe(200);
    expect(await w.balanceOf(org.id)).toBe(15_000_000n);
    // A later full refund lists both refunds: only the new one posts.
    const full = stripeEvent('charge.refunded', refundedCharge({ paymentIntentId: 'pi_ooo_1', customer: 'cus_ooo_1', amountCents: 2_000, amountRefunded: 2_000, refunds: [{ id: 're_ooo_2', amount: 1_500 }, { id: 're_ooo_1', amount: 500 }] }));
    await deliver(hook.url, full);
    expect(await w.balanceOf(org.id)).toBe(0n);
    expect((await entriesOf(org.id)).map((e) => e.sourceId).sort()).toEqual(['pi_ooo_1', 're_ooo_1', 're_ooo_2']);
  });

  it('cumulative refunds without a refund list converge in any order', async () => {
    const org = await w.createOrg();
    const charge = (refunded: number) => refundedCharge({ paymentIntentId: 'pi_cum_1', organizationId: org.id, amountCents: 3_000, amountRefunded: refunded });
    const events = [stripeEvent('charge.refunded', charge(3_000)), stripeEvent('charge.refunded', charge(1_000)), stripeEvent('payment_intent.succeeded', succeededIntent({ organizationId: org.id, id: 'pi_cum_1', amountCents: 3_000 }))];
    for (const e of events) expect((await deliver(hook.url, e)).status).toBe(200);
    expect(await w.balanceOf(org.id)).toBe(0n);
  });

  it('a refund that fails is given back once, and a redelivered charge.refunded does not take it again', async () => {
    const org = await w.createOrg();
    await deliver(hook.url, stripeEvent('payment_intent.succeeded', succeededIntent({ organizationId: org.id, id: 'pi_rf_1', amountCents: 2_000 })));
    const refunded = stripeEvent('charge.refunded', refundedCharge({ paymentIntentId: 'pi_rf_1', organizationId: org.id, amountCents: 2_000, amountRefunded: 500, refunds: [{ id: 're_rf_1', amount: 500 }] }));
    await deliver(hook.url, refunded);
    expect(await w.balanceOf(org.id)).toBe(15_000_000n);
    const failed = stripeEvent('refund.failed', failedRefund({ id: 're_rf_1', paymentIntentId: 'pi_rf_1', amountCents: 500 }));
    const res = await deliver(hook.url, failed);
    expect(res.status).toBe(200);
    expect(((await res.json()) as Ack).outcome).toBe('applied');
    expect(await w.balanceOf(org.id)).toBe(20_000_000n);
    // The same event again, the same failure in another event, and the old refund event redelivered: no change.
    expect(((await (await deliver(hook.url, failed)).json()) as Ack).outcome).toBe('duplicate');
    expect(((await (await deliver(hook.url, stripeEvent('refund.failed', failedRefund({ id: 're_rf_1', paymentIntentId: 'pi_rf_1', amountCents: 500 })))).json()) as Ack).outcome).toBe('ignored');
    await deliver(hook.url, stripeEvent('charge.refunded', refunded.data.object));
    expect(await w.balanceOf(org.id)).toBe(20_000_000n);
    const reversal = (await entriesOf(org.id)).find((e) => e.sourceId === 're_rf_1:failed');
    expect(reversal).toMatchObject({ type: 'REFUND', amountMicros: 5_000_000n, metadata: { chargeId: 'ch_rf_1', refundId: 're_rf_1', failureReason: 'expired_or_canceled_card' } });
  });

  it('a failed refund posted as a cumulative amount is given back too', async () => {
    const org = await w.createOrg();
    await deliver(hook.url, stripeEvent('payment_intent.succeeded', succeededIntent({ organizationId: org.id, id: 'pi_rf_2', amountCents: 3_000 })));
    await deliver(hook.url, stripeEvent('charge.refunded', refundedCharge({ paymentIntentId: 'pi_rf_2', organizationId: org.id, amountCents: 3_000, amountRefunded: 800 })));
    expect(await w.balanceOf(org.id)).toBe(22_000_000n);
    expect((await deliver(hook.url, stripeEvent('refund.failed', failedRefund({ id: 're_rf_2', paymentIntentId: 'pi_rf_2', amountCents: 800 })))).status).toBe(200);
    expect(await w.balanceOf(org.id)).toBe(30_000_000n);
    // More than the charge still holds as refunded is not a refund we posted: it waits (503).
    expect((await deliver(hook.url, stripeEvent('refund.failed', failedRefund({ id: 're_rf_3', paymentIntentId: 'pi_rf_2', amountCents: 100 })))).status).toBe(503);
    expect(await w.balanceOf(org.id)).toBe(30_000_000n);
  });

  it('a failed refund whose refund has not been posted yet answers 503 and records nothing; its redelivery applies', async () => {
    const org = await w.createOrg();
    await deliver(hook.url, stripeEvent('payment_intent.succeeded', succeededIntent({ organizationId: org.id, id: 'pi_rf_4', amountCents: 1_000 })));
    const failed = stripeEvent('refund.failed', failedRefund({ id: 're_rf_4', paymentIntentId: 'pi_rf_4', amountCents: 400 }));
    expect((await deliver(hook.url, failed)).status).toBe(503);
    expect(await eventRow(failed.id)).toBeNull();
    await deliver(hook.url, stripeEvent('charge.refunded', refundedCharge({ paymentIntentId: 'pi_rf_4', organizationId: org.id, amountCents: 1_000, amountRefunded: 400, refunds: [{ id: 're_rf_4', amount: 400 }] })));
    expect(await w.balanceOf(org.id)).toBe(6_000_000n);
    expect((await deliver(hook.url, failed)).status).toBe(200);
    expect(await w.balanceOf(org.id)).toBe(10_000_000n);
  });

  it('a refund nobody can attribute yet answers 503 (Stripe redelivers) and records nothing', async () => {
    const event = stripeEvent('charge.refunded', refundedCharge({ paymentIntentId: 'pi_nobody', amountCents: 100, amountRefunded: 100 }));
    expect((await deliver(hook.url, event)).status).toBe(503);
    expect(await eventRow(event.id)).toBeNull();
  });

  it('a handler that fails mid-transaction leaves no partial state and the redelivery succeeds', async () => {
    let failures = 1;
    const flaky = await w.startWebhookServer({
      beforeCommit: () => {
        if (failures-- > 0) throw new Error('injected failure after the ledger write');
      },
    });
    const org = await w.createOrg();
    const event = stripeEvent('payment_intent.succeeded', succeededIntent({ organizationId: org.id, id: 'pi_flaky', amountCents: 1_200 }));
    const first = await deliver(flaky.url, event);
    expect(first.status).toBe(503);
    expect(await eventRow(event.id)).toBeNull();
    expect(await entriesOf(org.id)).toEqual([]);
    expect(await w.balanceOf(org.id)).toBe(0n);
    const again = await deliver(flaky.url, event);
    expect(again.status).toBe(200);
    expect(await w.balanceOf(org.id)).toBe(12_000_000n);
    expect(await eventRow(event.id)).not.toBeNull();
    const metrics = await flaky.registry.metrics();
    expect(metrics).toContain('cic_stripe_webhooks_total{type="payment_intent.succeeded",outcome="error"} 1');
    expect(metrics).toContain('cic_stripe_webhooks_total{type="payment_intent.succeeded",outcome="applied"} 1');
  });

  it('acknowledges and ignores unknown event types', async () => {
    const event = stripeEvent('product.created', { id: 'prod_1', object: 'product' });
    const res = await deliver(hook.url, event);
    expect(res.status).toBe(200);
    expect(((await res.json()) as Ack).outcome).toBe('ignored');
    expect(await hook.registry.metrics()).toContain('cic_stripe_webhooks_total{type="other",outcome="ignored"}');
  });

  it('ignores unpaid checkout sessions and payments of nobody we know', async () => {
    const org = await w.createOrg();
    const unpaid = { ...paidSession({ organizationId: org.id, paymentIntentId: 'pi_unpaid', amountCents: 900 }), payment_status: 'unpaid' };
    expect(((await (await deliver(hook.url, stripeEvent('checkout.session.completed', unpaid))).json()) as Ack).outcome).toBe('ignored');
    const foreign = stripeEvent('payment_intent.succeeded', succeededIntent({ id: 'pi_foreign', amountCents: 900 }));
    expect(((await (await deliver(hook.url, foreign)).json()) as Ack).outcome).toBe('unmatched');
    expect(await w.balanceOf(org.id)).toBe(0n);
  });
});
