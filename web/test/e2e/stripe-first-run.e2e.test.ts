import { DEFAULT_MODELS } from '@cic/core/bootstrap/default-models';
import OpenAI from 'openai';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliver, paidSession, stripeEvent } from '../../../api/test/billing/billing-fixture.ts';
import { startStripeStandIn } from '../../../api/test/billing/stripe-stand-in.ts';
import { launchBrowser } from './support/browser.ts';
import { registerStaticNode, startStack, type Stack } from './support/stack.ts';

/**
 * A new user's path to a first answer with Stripe (issue 14, item 3): sign up by magic link → Overview
 * offers to buy credits → Billing → Pay with Stripe (the official SDK against a local stand-in of
 * Stripe's API; the hosted Checkout page is stubbed in the browser) → Stripe's signed webhook credits the
 * organization → create a key → the openai SDK gets an answer, metered.
 */
const SECRET_KEY = 'sk_test_first_run';
const WEBHOOK_SECRET = 'whsec_first_run';
const EMAIL = 'buyer@stripe-first.test';
let stack: Stack;
let stripe: Awaited<ReturnType<typeof startStripeStandIn>>;
let node: Awaited<ReturnType<typeof registerStaticNode>>;
let browser: Browser;
let closeBrowser: () => Promise<void>;

beforeAll(async () => {
  stripe = await startStripeStandIn({ secretKey: SECRET_KEY });
  stack = await startStack({ apiEnv: { STRIPE_SECRET_KEY: SECRET_KEY, STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET, STRIPE_API_BASE: stripe.url } });
  node = await registerStaticNode(stack);
  ({ browser, close: closeBrowser } = await launchBrowser());
}, 180_000);

afterAll(async () => {
  await closeBrowser?.();
  await node?.close();
  await stack?.stop();
  await stripe?.close();
}, 60_000);

describe('first run with Stripe', () => {
  it('sign up → buy credits → create a key → a metered answer', async () => {
    const context = await browser.newContext();
    // Stripe's hosted Checkout page is the one part that cannot run here: the browser lands on a stub.
    await context.route('https://checkout.stripe.test/**', (route) => route.fulfill({ contentType: 'text/html', body: '<h1>Stripe Checkout (stand-in)</h1>' }));
    const page = await context.newPage();

    await page.goto(`${stack.webUrl}/signin`);
    await page.getByLabel('Email').fill(EMAIL);
    await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
    await page.waitForURL(/\/signin\/check-email/);
    await page.goto(await stack.mailbox.magicLink(EMAIL));
    await page.waitForURL(`${stack.webUrl}/`);
    expect(await page.getByTestId('balance').textContent()).toBe('$0.00');

    await page.getByRole('link', { name: 'Buy credits' }).click();
    await page.waitForURL(`${stack.webUrl}/billing`);
    await page.getByLabel('Amount (USD)').fill('20');
    await page.getByRole('button', { name: 'Pay with Stripe' }).click();
    await page.waitForURL(/^https:\/\/checkout\.stripe\.test\/c\/pay\/cs_test_/);
    const checkout = stripe.requests.find((r) => r.path === '/v1/checkout/sessions')!;
    expect(checkout.form['line_items[0][price_data][unit_amount]']).toBe('2000');
    const organizationId = checkout.form['metadata[organizationId]']!;
    const own = await stack.prisma.membership.findFirstOrThrow({ where: { user: { email: EMAIL } } });
    expect(organizationId).toBe(own.organizationId);

    // Stripe confirms the payment with a signed webhook; the buyer comes back to Billing.
    const paid = await deliver(`${stack.apiUrl}/webhooks/stripe`, stripeEvent('checkout.session.completed', paidSession({ organizationId, paymentIntentId: 'pi_first_run', amountCents: 2000 })), { secret: WEBHOOK_SECRET });
    expect(paid.status).toBe(200);
    await page.goto(`${stack.webUrl}/billing?paid=1`);
    await expect.poll(async () => {
      await page.reload();
      return page.getByTestId('billing-balance').textContent();
    }, { timeout: 15_000 }).toBe('$20.00');

    await page.goto(`${stack.webUrl}/keys`);
    await page.getByLabel('Name').fill('first key');
    await page.getByRole('button', { name: 'Create key' }).click();
    const secret = (await page.getByTestId('new-key-secret').textContent())!.trim();
    expect(secret).toMatch(/^cic_/);

    const client = new OpenAI({ apiKey: secret, baseURL: `${stack.apiUrl}/v1`, maxRetries: 0 });
    const reply = await client.chat.completions.create({ model: DEFAULT_MODELS[0]!.name, messages: [{ role: 'user', content: 'my first request' }] });
    expect(reply.choices[0]?.message.content).toBeTruthy();
    const key = await stack.prisma.apiKey.findFirstOrThrow({ where: { organizationId, name: 'first key' } });
    await expect.poll(() => stack.prisma.usageRecord.count({ where: { apiKeyId: key.id, outcome: 'SUCCESS' } }), { timeout: 15_000 }).toBe(1);
    await context.close();
  });
});
