import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishBillingChanged } from '@cic/core/billing/publish-billing-changed';
import { createBillingWorld, deliver, dispute, stripeEvent, succeededIntent, type BillingWorld } from './billing-fixture.ts';

let w: BillingWorld;
let url: string;

beforeAll(async () => {
  w = await createBillingWorld();
  url = (await w.startWebhookServer()).url;
});
afterAll(async () => {
  await w?.close();
});

const orgState = (id: string) => w.prisma.organization.findUniqueOrThrow({ where: { id }, select: { frozenAt: true, frozenReason: true } });

async function purchased(amountCents: number, pi: string) {
  const org = await w.createOrg();
  await deliver(url, stripeEvent('payment_intent.succeeded', succeededIntent({ organizationId: org.id, id: pi, amountCents })));
  return org;
}

describe('disputes', () => {
  it('charge.dispute.created freezes the organization (audited); closed as won unfreezes it', async () => {
    const org = await purchased(1_000, 'pi_disp_won');
    expect((await deliver(url, stripeEvent('charge.dispute.created', dispute({ id: 'du_won', paymentIntentId: 'pi_disp_won', amountCents: 1_000, status: 'needs_response' })))).status).toBe(200);
    expect(await orgState(org.id)).toMatchObject({ frozenAt: expect.any(Date), frozenReason: 'payment dispute du_won' });
    expect(await w.prisma.auditLog.count({ where: { organizationId: org.id, action: 'billing.freeze' } })).toBe(1);
    await deliver(url, stripeEvent('charge.dispute.closed', dispute({ id: 'du_won', paymentIntentId: 'pi_disp_won', amountCents: 1_000, status: 'won' })));
    expect(await orgState(org.id)).toEqual({ frozenAt: null, frozenReason: null });
    expect(await w.balanceOf(org.id)).toBe(10_000_000n);
    expect(await w.prisma.auditLog.count({ where: { organizationId: org.id, action: 'billing.unfreeze' } })).toBe(1);
  });

  it('a lost dispute takes the credits back and unfreezes once no dispute is open', async () => {
    const org = await purchased(2_000, 'pi_disp_lost');
    await deliver(url, stripeEvent('charge.dispute.created', dispute({ id: 'du_lost', paymentIntentId: 'pi_disp_lost', amountCents: 2_000, status: 'needs_response' })));
    await deliver(url, stripeEvent('charge.dispute.closed', dispute({ id: 'du_lost', paymentIntentId: 'pi_disp_lost', amountCents: 2_000, status: 'lost' })));
    expect(await w.balanceOf(org.id)).toBe(0n);
    expect((await orgState(org.id)).frozenAt).toBeNull();
  });

  it('stays frozen while a second dispute of the organization is open', async () => {
    const org = await purchased(1_000, 'pi_two_a');
    await deliver(url, stripeEvent('payment_intent.succeeded', succeededIntent({ organizationId: org.id, id: 'pi_two_b', amountCents: 1_000 })));
    await deliver(url, stripeEvent('charge.dispute.created', dispute({ id: 'du_a', paymentIntentId: 'pi_two_a', amountCents: 1_000, status: 'needs_response' })));
    await deliver(url, stripeEvent('charge.dispute.created', dispute({ id: 'du_b', paymentIntentId: 'pi_two_b', amountCents: 1_000, status: 'needs_response' })));
    await deliver(url, stripeEvent('charge.dispute.closed', dispute({ id: 'du_a', paymentIntentId: 'pi_two_a', amountCents: 1_000, status: 'won' })));
    expect((await orgState(org.id)).frozenAt).not.toBeNull();
    await deliver(url, stripeEvent('charge.dispute.closed', dispute({ id: 'du_b', paymentIntentId: 'pi_two_b', amountCents: 1_000, status: 'won' })));
    expect((await orgState(org.id)).frozenAt).toBeNull();
  });

  it('closed before created (out of order) leaves the organization unfrozen', async () => {
    const org = await purchased(1_000, 'pi_disp_ooo');
    await deliver(url, stripeEvent('charge.dispute.closed', dispute({ id: 'du_ooo', paymentIntentId: 'pi_disp_ooo', amountCents: 1_000, status: 'won' })));
    await deliver(url, stripeEvent('charge.dispute.created', dispute({ id: 'du_ooo', paymentIntentId: 'pi_disp_ooo', amountCents: 1_000, status: 'needs_response' })));
    expect((await orgState(org.id)).frozenAt).toBeNull();
  });

  it('a dispute on a payment we cannot attribute yet answers 503', async () => {
    const res = await deliver(url, stripeEvent('charge.dispute.created', dispute({ id: 'du_unknown', paymentIntentId: 'pi_unknown', amountCents: 1_000, status: 'needs_response' })));
    expect(res.status).toBe(503);
  });
});

describe('customer.deleted', () => {
  it('detaches the customer from the billing account and keeps the ledger', async () => {
    const org = await w.createOrg({ customerId: 'cus_gone', balanceMicros: 3n });
    const res = await deliver(url, stripeEvent('customer.deleted', { id: 'cus_gone', object: 'customer', deleted: true, metadata: {} }));
    expect(res.status).toBe(200);
    const account = await w.prisma.billingAccount.findUniqueOrThrow({ where: { organizationId: org.id } });
    expect(account).toMatchObject({ stripeCustomerId: null, balanceMicros: 3n });
  });
});

describe('publishBillingChanged and the low-balance notice', () => {
  it('publishes the balance, notifies low balance once (audited) and re-arms after a top-up', async () => {
    const org = await w.createOrg({ balanceMicros: 1_000_000n, lowBalanceMicros: 5_000_000n });
    const messages: unknown[] = [];
    w.onClose(async () => off());
    const off = w.bus.subscribe('billingChanged', org.id, (payload) => messages.push(payload));
    await w.bus.settled();

    await Promise.all([publishBillingChanged(w.bus, w.prisma, org.id), publishBillingChanged(w.bus, w.prisma, org.id)]);
    await w.eventually(() => messages.length === 2);
    expect(messages[0]).toEqual({ organizationId: org.id, balanceMicros: '1000000', frozen: false, low: true });
    expect(await w.prisma.auditLog.count({ where: { organizationId: org.id, action: 'billing.low_balance' } })).toBe(1);

    await w.prisma.billingAccount.update({ where: { organizationId: org.id }, data: { balanceMicros: 9_000_000n } });
    await publishBillingChanged(w.bus, w.prisma, org.id);
    expect((await w.prisma.billingAccount.findUniqueOrThrow({ where: { organizationId: org.id } })).lowBalanceNotifiedAt).toBeNull();
    await w.prisma.billingAccount.update({ where: { organizationId: org.id }, data: { balanceMicros: 2_000_000n } });
    await publishBillingChanged(w.bus, w.prisma, org.id);
    expect(await w.prisma.auditLog.count({ where: { organizationId: org.id, action: 'billing.low_balance' } })).toBe(2);
  });
});
