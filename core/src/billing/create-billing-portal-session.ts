import type { PrismaClient } from '@cic/db';
import type Stripe from 'stripe';
import type { Viewer } from '../auth/viewer.ts';
import { assertBillingAccess } from './billing-access.ts';
import { ensureStripeCustomer } from './ensure-stripe-customer.ts';
import { requireStripe } from './stripe-client.ts';

export interface CreateBillingPortalSessionOptions {
  prisma: PrismaClient;
  stripe: Stripe | null;
  /** OWNER/ADMIN of the organization or a platform admin. */
  viewer: Viewer;
  organizationId: string;
  /** Where the portal's "return" link goes (the dashboard's billing page). */
  returnUrl: string;
}

/** A Stripe customer portal session (payment methods, receipts) for the organization; returns its URL. */
export async function createBillingPortalSession(options: CreateBillingPortalSessionOptions): Promise<{ url: string }> {
  const { prisma, viewer, organizationId, returnUrl } = options;
  const stripe = requireStripe(options.stripe);
  assertBillingAccess(viewer, organizationId, { manage: true });
  const customer = await ensureStripeCustomer({ prisma, stripe, organizationId });
  const session = await stripe.billingPortal.sessions.create({ customer, return_url: returnUrl });
  return { url: session.url };
}
