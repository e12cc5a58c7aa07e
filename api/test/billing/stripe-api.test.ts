import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '@cic/core/errors';
import { createBillingPortalSession } from '@cic/core/billing/create-billing-portal-session';
import { createCheckoutSession } from '@cic/core/billing/create-checkout-session';
import { listInvoices } from '@cic/core/billing/list-invoices';
import { createStripeClient } from '@cic/core/billing/stripe-client';
import { createBillingWorld, keyViewer, userViewer, type BillingWorld } from './billing-fixture.ts';
import { startStripeStandIn, type StripeStandIn } from './stripe-stand-in.ts';

const SECRET_KEY = 'sk_test_stand_in';
const settings = { minCents: 500, maxCents: 50_000, publicWebUrl: 'https://app.example.test/', lowBalanceMicros: 2_000_000n };

let w: BillingWorld;
let standIn: StripeStandIn;
let stripe: ReturnType<typeof createStripeClient>;

beforeAll(async () => {
  w = await createBillingWorld();
  standIn = await startStripeStandIn({ secretKey: SECRET_KEY });
  stripe = createStripeClient({ secretKey: SECRET_KEY, apiBase: standIn.url, maxNetworkRetries: 0 });
});
afterAll(async () => {
  await standIn?.close();
  await w?.close();
});

async function owner(role: 'OWNER' | 'ADMIN' | 'MEMBER' = 'OWNER') {
  const org = await w.prisma.organization.create({ data: { name: 'Buyer', slug: `buyer-${Math.random().toString(36).slice(2, 10)}` } });
  return { org, viewer: userViewer({ roles: { [org.id]: role } }) };
}

const since = (n: number) => standIn.requests.slice(n);

describe('createCheckoutSession', () => {
  it('creates the customer lazily, then a payment-mode session, both with idempotency keys', async () => {
    const { org, viewer } = await owner();
    const before = standIn.requests.length;
    const session = await createCheckoutSession({ prisma: w.prisma, stripe, settings, viewer, organizationId: org.id, amountCents: 2_000, idempotencyKey: 'req-1' });
    expect(session.url).toMatch(/^https:\/\/checkout\.stripe\.test\/c\/pay\/cs_test_/);
    const [customer, checkout] = since(before);
    expect(customer).toMatchObject({ method: 'POST', path: '/v1/customers', idempotencyKey: `cic-customer-${org.id}-0`, authorization: `Bearer ${SECRET_KEY}` });
    expect(customer!.form['metadata[organizationId]']).toBe(org.id);
    expect(checkout).toMatchObject({ method: 'POST', path: '/v1/checkout/sessions', idempotencyKey: 'req-1' });
    const account = await w.prisma.billingAccount.findUniqueOrThrow({ where: { organizationId: org.id } });
    expect(account.lowBalanceMicros).toBe(2_000_000n);
    expect(checkout!.form).toMatchObject({
      mode: 'payment',
      customer: account.stripeCustomerId,
      'line_items[0][price_data][currency]': 'usd',
      'line_items[0][price_data][unit_amount]': '2000',
      'line_items[0][quantity]': '1',
      'metadata[organizationId]': org.id,
      'payment_intent_data[metadata][organizationId]': org.id,
      success_url: 'https://app.example.test/billing?checkout=success&session_id={CHECKOUT_SESSION_ID}',
      cancel_url: 'https://app.example.test/billing?checkout=cancel',
    });

    // A second purchase reuses the customer: no second customer create.
    const n = standIn.requests.length;
    await createCheckoutSession({ prisma: w.prisma, stripe, settings, viewer, organizationId: org.id, amountCents: 500 });
    expect(since(n).map((r) => r.path)).toEqual(['/v1/checkout/sessions']);
    expect(since(n)[0]!.idempotencyKey).toMatch(new RegExp(`^cic-checkout-${org.id}-`));
  });

  it('a retried request with the same key returns the same session', async () => {
    const { org, viewer } = await owner();
    const a = await createCheckoutSession({ prisma: w.prisma, stripe, settings, viewer, organizationId: org.id, amountCents: 1_000, idempotencyKey: 'same' });
    const b = await createCheckoutSession({ prisma: w.prisma, stripe, settings, viewer, organizationId: org.id, amountCents: 1_000, idempotencyKey: 'same' });
    expect(b.id).toBe(a.id);
  });

  it('concurrent first checkouts end with one stored customer', async () => {
    const { org, viewer } = await owner();
    await Promise.all([1, 2, 3].map(() => createCheckoutSession({ prisma: w.prisma, stripe, settings, viewer, organizationId: org.id, amountCents: 1_000 })));
    const creates = standIn.requests.filter((r) => r.path === '/v1/customers' && r.form['metadata[organizationId]'] === org.id);
    expect(new Set(creates.map((r) => r.idempotencyKey)).size).toBe(1);
    const account = await w.prisma.billingAccount.findUniqueOrThrow({ where: { organizationId: org.id } });
    const sessions = standIn.requests.filter((r) => r.path === '/v1/checkout/sessions' && r.form['metadata[organizationId]'] === org.id);
    expect(new Set(sessions.map((s) => s.form.customer))).toEqual(new Set([account.stripeCustomerId]));
  });

  it.each([[499], [50_001], [12.5]])('refuses %s cents with BAD_REQUEST and calls nothing', async (amountCents) => {
    const { org, viewer } = await owner();
    const n = standIn.requests.length;
    await expect(createCheckoutSession({ prisma: w.prisma, stripe, settings, viewer, organizationId: org.id, amountCents })).rejects.toMatchObject({ code: 'BAD_REQUEST', param: 'amountCents' });
    expect(standIn.requests.length).toBe(n);
  });

  it('refuses plain members (FORBIDDEN) and other tenants (NOT_FOUND)', async () => {
    const { org, viewer } = await owner('MEMBER');
    await expect(createCheckoutSession({ prisma: w.prisma, stripe, settings, viewer, organizationId: org.id, amountCents: 1_000 })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    const other = await owner();
    await expect(createCheckoutSession({ prisma: w.prisma, stripe, settings, viewer: other.viewer, organizationId: org.id, amountCents: 1_000 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('lets a platform admin buy for any organization but not an API key (MEMBER rights)', async () => {
    const { org } = await owner();
    await expect(createCheckoutSession({ prisma: w.prisma, stripe, settings, viewer: userViewer({ admin: true }), organizationId: org.id, amountCents: 1_000 })).resolves.toMatchObject({ url: expect.any(String) });
    await expect(createCheckoutSession({ prisma: w.prisma, stripe, settings, viewer: keyViewer(org.id), organizationId: org.id, amountCents: 1_000 })).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it('explains manual mode when Stripe is not configured', async () => {
    const { org, viewer } = await owner();
    const err = await createCheckoutSession({ prisma: w.prisma, stripe: null, settings, viewer, organizationId: org.id, amountCents: 1_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).message).toBe('Stripe is not configured; an admin can grant credits.');
    expect(createStripeClient({ secretKey: undefined })).toBeNull();
  });

  it('surfaces a wrong secret key from Stripe as an error', async () => {
    const { org, viewer } = await owner();
    const wrong = createStripeClient({ secretKey: 'sk_test_wrong', apiBase: standIn.url, maxNetworkRetries: 0 });
    await expect(createCheckoutSession({ prisma: w.prisma, stripe: wrong, settings, viewer, organizationId: org.id, amountCents: 1_000 })).rejects.toThrow(/Invalid API Key/);
  });
});

describe('createBillingPortalSession', () => {
  it('returns the portal URL for the organization’s customer', async () => {
    const { org, viewer } = await owner('ADMIN');
    const n = standIn.requests.length;
    const { url } = await createBillingPortalSession({ prisma: w.prisma, stripe, viewer, organizationId: org.id, returnUrl: 'https://app.example.test/billing' });
    expect(url).toMatch(/^https:\/\/billing\.stripe\.test\/p\/session\//);
    const [customer, portal] = since(n);
    expect(customer!.path).toBe('/v1/customers');
    expect(portal).toMatchObject({ method: 'POST', path: '/v1/billing_portal/sessions', form: { return_url: 'https://app.example.test/billing' } });
    expect(portal!.form.customer).toMatch(/^cus_/);
  });

  it('is refused to members and in manual mode', async () => {
    const { org, viewer } = await owner('MEMBER');
    await expect(createBillingPortalSession({ prisma: w.prisma, stripe, viewer, organizationId: org.id, returnUrl: 'https://x.test' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(createBillingPortalSession({ prisma: w.prisma, stripe: null, viewer, organizationId: org.id, returnUrl: 'https://x.test' })).rejects.toMatchObject({ detail: 'billing_manual_mode' });
  });
});

describe('listInvoices', () => {
  it('lists the customer’s invoices and serves repeats from the cache for a minute', async () => {
    const { org, viewer } = await owner('MEMBER');
    await w.prisma.billingAccount.create({ data: { organizationId: org.id, stripeCustomerId: `cus_inv_${org.id}` } });
    const inv = standIn.addInvoice({ customer: `cus_inv_${org.id}`, status: 'paid', amount_paid: 2_000, currency: 'usd', created: 1_700_000_000 });
    const n = standIn.requests.length;
    const opts = { prisma: w.prisma, stripe, redis: w.redis, keyPrefix: w.prefix, viewer, organizationId: org.id };
    const first = await listInvoices(opts);
    expect(first).toEqual([{
      id: inv.id, number: inv.number, status: 'paid', amountPaidCents: 2_000, currency: 'usd', createdAt: '2023-11-14T22:13:20.000Z',
      hostedInvoiceUrl: `https://invoice.stripe.test/${inv.id}`, pdfUrl: `https://invoice.stripe.test/${inv.id}.pdf`,
    }]);
    expect(since(n)).toEqual([expect.objectContaining({ method: 'GET', path: '/v1/invoices', query: expect.objectContaining({ customer: `cus_inv_${org.id}` }) })]);
    expect(await listInvoices(opts)).toEqual(first);
    expect(standIn.requests.length).toBe(n + 1);
    expect(await w.redis.ttl(`${w.prefix}billing:invoices:cus_inv_${org.id}`)).toBeGreaterThan(50);
  });

  it('is empty without a customer, hidden from other tenants, refused in manual mode', async () => {
    const { org, viewer } = await owner('MEMBER');
    const opts = { prisma: w.prisma, stripe, redis: w.redis, keyPrefix: w.prefix, viewer, organizationId: org.id };
    expect(await listInvoices(opts)).toEqual([]);
    expect(await listInvoices({ ...opts, viewer: keyViewer(org.id) })).toEqual([]);
    const stranger = await owner();
    await expect(listInvoices({ ...opts, viewer: stranger.viewer })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(listInvoices({ ...opts, stripe: null })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });
});
