import type { PrismaClient } from '@cic/db';
import type Stripe from 'stripe';
import { AppError } from '../errors.ts';
import { writeAuditLog } from '../audit/write-audit-log.ts';

export interface EnsureStripeCustomerOptions {
  prisma: PrismaClient;
  stripe: Stripe;
  organizationId: string;
  /** Threshold for an account created here. @defaultValue 5000000n (5 USD) */
  lowBalanceMicros?: bigint;
}

/**
 * The organization's Stripe customer id, creating the customer on first use. The create carries an
 * idempotency key derived from the organization, so two concurrent first checkouts get the same customer
 * from Stripe; the conditional update keeps whichever id was stored first.
 */
export async function ensureStripeCustomer({ prisma, stripe, organizationId, lowBalanceMicros = 5_000_000n }: EnsureStripeCustomerOptions): Promise<string> {
  const org = await prisma.organization.findUnique({ where: { id: organizationId }, select: { id: true, name: true, slug: true } });
  if (!org) throw new AppError('NOT_FOUND', 'Organization not found.');
  // Not an upsert: Prisma's upsert can lose a race between two first calls with a unique violation.
  await prisma.$executeRaw`
    INSERT INTO billing_accounts (organization_id, low_balance_micros, updated_at) VALUES (${organizationId}, ${lowBalanceMicros}, now())
    ON CONFLICT (organization_id) DO NOTHING`;
  // One snapshot for both reads: a concurrent first call that stores its customer and audits it between
  // them would otherwise make this call count one more generation and create a second Stripe customer.
  // A deleted customer (customer.deleted) clears the id; the key then needs a new generation.
  const [account, generation] = await prisma.$transaction([
    prisma.billingAccount.findUniqueOrThrow({ where: { organizationId }, select: { stripeCustomerId: true } }),
    prisma.auditLog.count({ where: { organizationId, action: 'billing.customer_create' } }),
  ], { isolationLevel: 'RepeatableRead' });
  if (account.stripeCustomerId) return account.stripeCustomerId;
  const customer = await stripe.customers.create(
    { name: org.name, metadata: { organizationId: org.id, organizationSlug: org.slug } },
    { idempotencyKey: `cic-customer-${org.id}-${generation}` },
  );
  const stored = await prisma.billingAccount.updateMany({ where: { organizationId, stripeCustomerId: null }, data: { stripeCustomerId: customer.id } });
  if (stored.count === 1) {
    await writeAuditLog(prisma, { actor: { type: 'SYSTEM', id: 'billing' }, organizationId, action: 'billing.customer_create', targetType: 'stripe_customer', targetId: customer.id });
    return customer.id;
  }
  const winner = await prisma.billingAccount.findUniqueOrThrow({ where: { organizationId }, select: { stripeCustomerId: true } });
  return winner.stripeCustomerId ?? customer.id;
}
