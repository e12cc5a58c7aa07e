import { randomUUID } from 'node:crypto';
import type { PrismaClient } from '@cic/db';
import type Stripe from 'stripe';
import { AppError } from '../errors.ts';
import type { Viewer } from '../auth/viewer.ts';
import { assertBillingAccess } from './billing-access.ts';
import { ensureStripeCustomer } from './ensure-stripe-customer.ts';
import { requireStripe } from './stripe-client.ts';

export interface CheckoutSettings {
  /** Smallest purchase in cents. */
  minCents: number;
  /** Largest purchase in cents. */
  maxCents: number;
  /** The dashboard's base URL; the buyer returns to `<it>/billing?checkout=success|cancel`. */
  publicWebUrl: string;
  /** Threshold for billing accounts created on the way. */
  lowBalanceMicros?: bigint;
}

export interface CreateCheckoutSessionOptions {
  prisma: PrismaClient;
  /** Null in manual mode: the call then explains that Stripe is not configured. */
  stripe: Stripe | null;
  settings: CheckoutSettings;
  /** OWNER/ADMIN of the organization or a platform admin. */
  viewer: Viewer;
  organizationId: string;
  /** Amount of credit to buy, in US cents. */
  amountCents: number;
  /**
   * Makes a retried request (same key) return the same session instead of opening a second one.
   * @defaultValue a fresh random key (every call opens a new session)
   */
  idempotencyKey?: string;
}

/**
 * Opens a Stripe Checkout session (mode payment) for a credit purchase and returns its URL. The
 * organization id goes into the session's and the payment intent's metadata: the webhooks credit the
 * organization from there.
 */
export async function createCheckoutSession(options: CreateCheckoutSessionOptions): Promise<{ id: string; url: string }> {
  const { prisma, settings, viewer, organizationId, amountCents } = options;
  const stripe = requireStripe(options.stripe);
  assertBillingAccess(viewer, organizationId, { manage: true });
  if (!Number.isInteger(amountCents) || amountCents < settings.minCents || amountCents > settings.maxCents) {
    throw new AppError('BAD_REQUEST', `Amount must be a whole number of cents between ${settings.minCents} and ${settings.maxCents}.`, { param: 'amountCents' });
  }
  const customer = await ensureStripeCustomer({ prisma, stripe, organizationId, lowBalanceMicros: settings.lowBalanceMicros });
  const metadata = { organizationId };
  const base = settings.publicWebUrl.replace(/\/$/, '');
  const session = await stripe.checkout.sessions.create(
    {
      mode: 'payment',
      customer,
      client_reference_id: organizationId,
      line_items: [{ quantity: 1, price_data: { currency: 'usd', unit_amount: amountCents, product_data: { name: 'CIC inference credits' } } }],
      metadata,
      payment_intent_data: { metadata },
      // A paid invoice doubles as the receipt the `invoices` list shows.
      invoice_creation: { enabled: true, invoice_data: { metadata } },
      success_url: `${base}/billing?checkout=success&session_id={CHECKOUT_SESSION_ID}`,
      cancel_url: `${base}/billing?checkout=cancel`,
    },
    { idempotencyKey: options.idempotencyKey ?? `cic-checkout-${organizationId}-${randomUUID()}` },
  );
  if (!session.url) throw new AppError('BAD_GATEWAY', 'Stripe returned a checkout session without a URL.');
  return { id: session.id, url: session.url };
}
