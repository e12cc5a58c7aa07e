import type { PrismaClient } from '@cic/db';
import type { Redis } from 'ioredis';
import type Stripe from 'stripe';
import type { Viewer } from '../auth/viewer.ts';
import { assertBillingAccess } from './billing-access.ts';
import { requireStripe } from './stripe-client.ts';

export interface InvoiceSummary {
  id: string;
  number: string | null;
  status: string | null;
  amountPaidCents: number;
  currency: string;
  /** ISO time the invoice was created. */
  createdAt: string;
  hostedInvoiceUrl: string | null;
  pdfUrl: string | null;
}

export interface ListInvoicesOptions {
  prisma: PrismaClient;
  stripe: Stripe | null;
  /** Holds the short-lived cache shared by all API instances. */
  redis: Redis;
  /** A member (or graphql key) of the organization or a platform admin. */
  viewer: Viewer;
  organizationId: string;
  /** @defaultValue 'cic:' */
  keyPrefix?: string;
  /** @defaultValue 60 */
  cacheSeconds?: number;
  /** @defaultValue 24 */
  limit?: number;
}

/**
 * The organization's invoices and receipts from Stripe, newest first. Cached in Redis for a minute: the
 * billing page is reloaded often and Stripe rate-limits list calls. No customer yet = no invoices.
 */
export async function listInvoices(options: ListInvoicesOptions): Promise<InvoiceSummary[]> {
  const { prisma, redis, viewer, organizationId, keyPrefix = 'cic:', cacheSeconds = 60, limit = 24 } = options;
  const stripe = requireStripe(options.stripe);
  assertBillingAccess(viewer, organizationId);
  const account = await prisma.billingAccount.findUnique({ where: { organizationId }, select: { stripeCustomerId: true } });
  if (!account?.stripeCustomerId) return [];
  const key = `${keyPrefix}billing:invoices:${account.stripeCustomerId}`;
  const cached = await redis.get(key);
  if (cached) return JSON.parse(cached) as InvoiceSummary[];
  const page = await stripe.invoices.list({ customer: account.stripeCustomerId, limit });
  const invoices = page.data.map((i): InvoiceSummary => ({
    id: i.id ?? '',
    number: i.number,
    status: i.status,
    amountPaidCents: i.amount_paid,
    currency: i.currency,
    createdAt: new Date(i.created * 1000).toISOString(),
    hostedInvoiceUrl: i.hosted_invoice_url ?? null,
    pdfUrl: i.invoice_pdf ?? null,
  }));
  await redis.set(key, JSON.stringify(invoices), 'EX', cacheSeconds);
  return invoices;
}
