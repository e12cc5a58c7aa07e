import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBillingWorld, deliver, dispute, failedRefund, paidSession, refundedCharge, stripeEvent, succeededIntent, type BillingWorld } from './billing-fixture.ts';

interface Ack { received: boolean; outcome: string }

let w: BillingWorld;
let hook: { url: string; registry: Registry };
const logLines: Record<string, unknown>[] = [];

beforeAll(async () => {
  w = await createBillingWorld();
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) logLines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  hook = await w.startWebhookServer({ log: pino({ level: 'info' }, sink) });
});
afterAll(async () => {
  await w?.close();
});

const eventRow = (id: string) => w.prisma.stripeEvent.findUnique({ where: { id } });
const entriesOf = (organizationId: string) => w.prisma.ledgerEntry.findMany({ where: { organizationId } });

/** Delivers a signed event whose payload must be refused: 200, recorded REJECTED naming `field`, nothing posted. */
async function expectRejected(event: ReturnType<typeof stripeEvent>, field: string, organizationId: string, balanceBefore: bigint) {
  const res = await deliver(hook.url, event);
  expect(res.status).toBe(200);
  expect((await res.json()) as Ack).toEqual({ received: true, outcome: 'rejected' });
  const row = await eventRow(event.id);
  expect(row).toMatchObject({ status: 'REJECTED', type: event.type });
  expect(row?.rejectReason).toContain(field);
  expect(await w.balanceOf(organizationId)).toBe(balanceBefore);
  return res;
}

describe('POST /webhooks/stripe: payload validation', () => {
  it('a negative amount_total never debits: acknowledged, recorded rejected, logged with the request id, counted', async () => {
    const org = await w.createOrg({ balanceMicros: 10_000_000n });
    const event = stripeEvent('checkout.session.completed', paidSession({ organizationId: org.id, paymentIntentId: 'pi_neg_1', amountCents: -200 }));
    const res = await expectRejected(event, 'data.object.amount_total', org.id, 10_000_000n);
    expect(await entriesOf(org.id)).toEqual([]);
    const requestId = res.headers.get('x-request-id');
    expect(requestId).toBeTruthy();
    expect(logLines.find((l) => l.eventId === event.id && l.level === 40)).toMatchObject({ requestId, eventType: 'checkout.session.completed', reason: expect.stringContaining('amount_total') });
    expect(await hook.registry.metrics()).toContain('cic_stripe_webhooks_total{type="checkout.session.completed",outcome="rejected"} 1');
  });

  it('an amount sent as a string never credits', async () => {
    const org = await w.createOrg();
    const session = { ...paidSession({ organizationId: org.id, paymentIntentId: 'pi_str_1', amountCents: 0 }), amount_total: '100' };
    await expectRejected(stripeEvent('checkout.session.completed', session), 'amount_total', org.id, 0n);
    const intent = { ...succeededIntent({ organizationId: org.id, id: 'pi_str_2', amountCents: 0 }), amount_received: '100' };
    await expectRejected(stripeEvent('payment_intent.succeeded', intent), 'amount_received', org.id, 0n);
    expect(await entriesOf(org.id)).toEqual([]);
  });

  it('a fractional amount is rejected (not a 503 that Stripe retries for days)', async () => {
    const org = await w.createOrg();
    await expectRejected(stripeEvent('payment_intent.succeeded', succeededIntent({ organizationId: org.id, id: 'pi_float_1', amountCents: 12.5 })), 'amount_received', org.id, 0n);
    await expectRejected(stripeEvent('checkout.session.completed', paidSession({ organizationId: org.id, paymentIntentId: 'pi_float_2', amountCents: 0.5 })), 'amount_total', org.id, 0n);
  });

  it('missing fields are rejected', async () => {
    const org = await w.createOrg();
    const { amount_received: _a, currency: _c, ...intent } = succeededIntent({ organizationId: org.id, id: 'pi_missing_1', amountCents: 500 });
    const event = stripeEvent('payment_intent.succeeded', intent);
    await expectRejected(event, 'currency', org.id, 0n);
    expect((await eventRow(event.id))?.rejectReason).toContain('amount_received');
    const { payment_intent: _p, ...session } = paidSession({ organizationId: org.id, paymentIntentId: 'pi_missing_2', amountCents: 500 });
    await expectRejected(stripeEvent('checkout.session.completed', session), 'payment_intent', org.id, 0n);
    // An envelope without a usable creation time is recorded rejected too.
    await expectRejected({ ...stripeEvent('customer.deleted', { id: 'cus_missing' }), created: 'yesterday' as unknown as number }, 'created', org.id, 0n);
  });

  it('a paid session of zero and a metadata organization id of the wrong shape are rejected', async () => {
    const org = await w.createOrg();
    await expectRejected(stripeEvent('checkout.session.completed', paidSession({ organizationId: org.id, paymentIntentId: 'pi_zero', amountCents: 0 })), 'amount_total', org.id, 0n);
    const wrongOrg = { ...succeededIntent({ id: 'pi_meta', amountCents: 500 }), metadata: { organizationId: { $ne: null } } };
    await expectRejected(stripeEvent('payment_intent.succeeded', wrongOrg), 'metadata.organizationId', org.id, 0n);
    // An unpaid session is still only ignored: nothing is credited from it, whatever its amount.
    const unpaid = { ...paidSession({ organizationId: org.id, paymentIntentId: 'pi_unpaid_0', amountCents: 0 }), payment_status: 'unpaid' };
    expect(((await (await deliver(hook.url, stripeEvent('checkout.session.completed', unpaid))).json()) as Ack).outcome).toBe('ignored');
  });

  it('negative or impossible refund, failed-refund and dispute amounts never move the balance', async () => {
    const org = await w.createOrg();
    await deliver(hook.url, stripeEvent('payment_intent.succeeded', succeededIntent({ organizationId: org.id, id: 'pi_neg_ref', amountCents: 1_000 })));
    expect(await w.balanceOf(org.id)).toBe(10_000_000n);
    // A negative refund would credit (the refund effect negates it).
    const refunded = refundedCharge({ paymentIntentId: 'pi_neg_ref', organizationId: org.id, amountCents: 1_000, amountRefunded: 0, refunds: [{ id: 're_neg_1', amount: -5_000 }] });
    await expectRejected(stripeEvent('charge.refunded', refunded), 'refunds.data.0.amount', org.id, 10_000_000n);
    const cumulative = refundedCharge({ paymentIntentId: 'pi_neg_ref', organizationId: org.id, amountCents: 1_000, amountRefunded: 5_000 });
    await expectRejected(stripeEvent('charge.refunded', cumulative), 'amount_refunded', org.id, 10_000_000n);
    await expectRejected(stripeEvent('refund.failed', failedRefund({ id: 're_neg_2', paymentIntentId: 'pi_neg_ref', amountCents: -300 })), 'amount', org.id, 10_000_000n);
    const lost = { ...dispute({ id: 'du_neg', paymentIntentId: 'pi_neg_ref', amountCents: 1_000, status: 'lost' }), amount: '1000' };
    await expectRejected(stripeEvent('charge.dispute.closed', lost), 'amount', org.id, 10_000_000n);
    expect((await entriesOf(org.id)).map((e) => e.sourceId)).toEqual(['pi_neg_ref']);
  });

  it('a redelivered rejected event stays rejected once (duplicate), and its id cannot later be applied', async () => {
    const org = await w.createOrg();
    const event = stripeEvent('payment_intent.succeeded', succeededIntent({ organizationId: org.id, id: 'pi_redeliver', amountCents: -700 }));
    await expectRejected(event, 'amount_received', org.id, 0n);
    const again = await deliver(hook.url, event);
    expect(again.status).toBe(200);
    expect(((await again.json()) as Ack).outcome).toBe('duplicate');
    expect(await w.prisma.stripeEvent.count({ where: { id: event.id } })).toBe(1);
    expect(await eventRow(event.id)).toMatchObject({ status: 'REJECTED' });
    expect(await w.balanceOf(org.id)).toBe(0n);
  });

  it('valid events are recorded as processed, without a reason', async () => {
    const org = await w.createOrg();
    const event = stripeEvent('payment_intent.succeeded', succeededIntent({ organizationId: org.id, id: 'pi_ok_valid', amountCents: 300 }));
    expect(((await (await deliver(hook.url, event)).json()) as Ack).outcome).toBe('applied');
    expect(await eventRow(event.id)).toMatchObject({ status: 'PROCESSED', rejectReason: null });
    expect(await w.balanceOf(org.id)).toBe(3_000_000n);
  });
});
