import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGraphQLWorld, gql } from '../graphql/graphql-fixture.ts';
import { deliver, stripeEvent, succeededIntent, WEBHOOK_SECRET } from './billing-fixture.ts';
import { startStripeStandIn, type StripeStandIn } from './stripe-stand-in.ts';

let world: Awaited<ReturnType<typeof createGraphQLWorld>>;
let acme: Awaited<ReturnType<typeof world.tenant>>;
let globex: Awaited<ReturnType<typeof world.tenant>>;
let url: string;

beforeAll(async () => {
  world = await createGraphQLWorld();
  acme = await world.tenant('Acme');
  globex = await world.tenant('Globex');
  url = (await world.startApi({ STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET })).url;
});
afterAll(() => world?.close());

const ADJUST = 'mutation ($input: AdjustCreditsInput!) { adjustCredits(input: $input) { inserted balanceMicros } }';
const LEDGER = 'query ($id: ID!) { organization(id: $id) { billing { balanceMicros ledger(first: 5) { edges { node { type amountMicros description } } } } } }';
const PRICE = 'mutation ($input: UpdateModelPriceInput!) { updateModelPrice(input: $input) { id promptPriceMicros completionPriceMicros } }';
const CHECKOUT = 'mutation ($org: ID!) { createCheckoutSession(organizationId: $org, amountCents: 1000) { url } }';

describe('billing through GraphQL', () => {
  it('a platform admin grants credits (audited) and reads any organization’s ledger', async () => {
    const r = await gql<{ adjustCredits: { inserted: boolean; balanceMicros: string } }>(url, ADJUST, { input: { organizationId: acme.org.id, amountMicros: '3000000', reason: 'pilot grant', idempotencyKey: 'gql-1' } }, { auth: world.adminToken });
    expect(r.errors).toBeUndefined();
    expect(r.data?.adjustCredits).toEqual({ inserted: true, balanceMicros: '10000000' });
    const again = await gql<{ adjustCredits: { inserted: boolean } }>(url, ADJUST, { input: { organizationId: acme.org.id, amountMicros: '3000000', reason: 'pilot grant', idempotencyKey: 'gql-1' } }, { auth: world.adminToken });
    expect(again.data?.adjustCredits.inserted).toBe(false);
    const ledger = await gql<{ organization: { billing: { balanceMicros: string; ledger: { edges: { node: { description: string } }[] } } } }>(url, LEDGER, { id: acme.org.id }, { auth: world.adminToken });
    expect(ledger.data?.organization.billing.balanceMicros).toBe('10000000');
    expect(ledger.data?.organization.billing.ledger.edges[0]?.node.description).toBe('pilot grant');
    expect(await world.prisma.auditLog.count({ where: { organizationId: acme.org.id, action: 'billing.adjust_credits' } })).toBe(1);
  });

  it('refuses credit adjustments to owners, graphql keys and anonymous callers', async () => {
    const input = { organizationId: acme.org.id, amountMicros: '1', reason: 'self grant' };
    expect((await gql(url, ADJUST, { input }, { auth: acme.ownerToken })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await gql(url, ADJUST, { input }, { auth: acme.apiKey.secret })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await gql(url, ADJUST, { input })).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('refuses an empty reason with BAD_USER_INPUT', async () => {
    const r = await gql(url, ADJUST, { input: { organizationId: acme.org.id, amountMicros: '1', reason: ' ' } }, { auth: world.adminToken });
    expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('updateModelPrice: admins change prices, members are refused', async () => {
    const r = await gql<{ updateModelPrice: { promptPriceMicros: string } }>(url, PRICE, { input: { modelId: world.model.id, promptPriceMicros: '1500000' } }, { auth: world.adminToken });
    expect(r.errors).toBeUndefined();
    expect(r.data?.updateModelPrice).toMatchObject({ promptPriceMicros: '1500000', completionPriceMicros: '2000000' });
    expect((await gql(url, PRICE, { input: { modelId: world.model.id, promptPriceMicros: '1' } }, { auth: acme.ownerToken })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('createCheckoutSession: members are FORBIDDEN, other tenants NOT_FOUND', async () => {
    expect((await gql(url, CHECKOUT, { org: acme.org.id }, { auth: acme.memberToken })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await gql(url, CHECKOUT, { org: acme.org.id }, { auth: globex.ownerToken })).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });
});

describe('Stripe fields through GraphQL', () => {
  let standIn: StripeStandIn;
  let stripeUrl: string;
  beforeAll(async () => {
    standIn = await startStripeStandIn({ secretKey: 'sk_test_gql' });
    stripeUrl = (await world.startApi({ STRIPE_SECRET_KEY: 'sk_test_gql', STRIPE_API_BASE: standIn.url, PUBLIC_WEB_URL: 'https://dash.example.test', CHECKOUT_MIN_CENTS: '1000' })).url;
  });
  afterAll(() => standIn?.close());

  it('billingSettings tells the mode and limits', async () => {
    const q = 'query { billingSettings { mode checkoutMinCents checkoutMaxCents } }';
    expect((await gql(stripeUrl, q, {}, { auth: acme.memberToken })).data).toEqual({ billingSettings: { mode: 'stripe', checkoutMinCents: 1000, checkoutMaxCents: 100000 } });
    expect((await gql(url, q, {}, { auth: acme.memberToken })).data).toEqual({ billingSettings: { mode: 'manual', checkoutMinCents: 500, checkoutMaxCents: 100000 } });
  });

  it('an owner opens a checkout (keyed by the request id) and the portal; members list invoices', async () => {
    const n = standIn.requests.length;
    const r = await gql<{ createCheckoutSession: { url: string } }>(stripeUrl, CHECKOUT, { org: acme.org.id }, { auth: acme.ownerToken, headers: { 'x-request-id': 'req_checkout_1' } });
    expect(r.errors).toBeUndefined();
    expect(r.data?.createCheckoutSession.url).toMatch(/^https:\/\/checkout\.stripe\.test\//);
    const checkout = standIn.requests.slice(n).find((x) => x.path === '/v1/checkout/sessions');
    expect(checkout).toMatchObject({ idempotencyKey: `cic-checkout-${acme.org.id}-req_checkout_1`, form: expect.objectContaining({ cancel_url: 'https://dash.example.test/billing?checkout=cancel' }) });

    const portal = await gql<{ createBillingPortalSession: { url: string } }>(stripeUrl, 'mutation ($org: ID!) { createBillingPortalSession(organizationId: $org) { url } }', { org: acme.org.id }, { auth: acme.ownerToken });
    expect(portal.data?.createBillingPortalSession.url).toMatch(/^https:\/\/billing\.stripe\.test\//);
    expect(standIn.requests.at(-1)?.form.return_url).toBe('https://dash.example.test/billing');

    const account = await world.prisma.billingAccount.findUniqueOrThrow({ where: { organizationId: acme.org.id } });
    standIn.addInvoice({ customer: account.stripeCustomerId!, status: 'paid', amount_paid: 1_000, currency: 'usd', created: 1_700_000_000 });
    const invoices = await gql<{ invoices: { amountPaidCents: number; status: string }[] }>(stripeUrl, 'query ($org: ID!) { invoices(organizationId: $org) { amountPaidCents status createdAt } }', { org: acme.org.id }, { auth: acme.apiKey.secret });
    expect(invoices.errors).toBeUndefined();
    expect(invoices.data?.invoices).toEqual([{ amountPaidCents: 1_000, status: 'paid', createdAt: '2023-11-14T22:13:20.000Z' }]);
    expect((await gql(stripeUrl, 'query ($org: ID!) { invoices(organizationId: $org) { id } }', { org: acme.org.id }, { auth: globex.ownerToken })).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('refuses amounts outside the limits and explains manual mode', async () => {
    const small = await gql(stripeUrl, 'mutation ($org: ID!) { createCheckoutSession(organizationId: $org, amountCents: 999) { url } }', { org: acme.org.id }, { auth: acme.ownerToken });
    expect(small.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const manual = await gql(url, CHECKOUT, { org: acme.org.id }, { auth: acme.ownerToken });
    expect(manual.errors?.[0]).toMatchObject({ message: 'Stripe is not configured; an admin can grant credits.', extensions: { code: 'SERVICE_UNAVAILABLE' } });
  });
});

describe('the API mounts POST /webhooks/stripe', () => {
  it('credits a signed purchase through the real server', async () => {
    const before = await world.prisma.billingAccount.findUniqueOrThrow({ where: { organizationId: globex.org.id } });
    const res = await deliver(`${url}/webhooks/stripe`, stripeEvent('payment_intent.succeeded', succeededIntent({ organizationId: globex.org.id, id: 'pi_app_1', amountCents: 100 })));
    expect(res.status).toBe(200);
    const after = await world.prisma.billingAccount.findUniqueOrThrow({ where: { organizationId: globex.org.id } });
    expect(after.balanceMicros - before.balanceMicros).toBe(1_000_000n);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain('cic_stripe_webhooks_total{type="payment_intent.succeeded",outcome="applied"} 1');
    expect(metrics).toContain('cic_billing_low_balance_orgs');
  });

  it('answers 503 when the server has no webhook secret (manual mode)', async () => {
    const manual = await world.startApi();
    const res = await deliver(`${manual.url}/webhooks/stripe`, stripeEvent('payment_intent.succeeded', succeededIntent({ id: 'pi_app_2', amountCents: 100 })));
    expect(res.status).toBe(503);
  });
});
