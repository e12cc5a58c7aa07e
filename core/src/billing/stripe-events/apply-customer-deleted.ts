import type Stripe from 'stripe';
import { applied, ignored, type EventEffect, type Tx } from './event-effect.ts';

/** Forgets a customer deleted in Stripe; the next checkout creates a new one. The ledger is untouched. */
export async function applyCustomerDeleted(tx: Tx, customer: Stripe.Customer): Promise<EventEffect> {
  const account = await tx.billingAccount.findUnique({ where: { stripeCustomerId: customer.id }, select: { organizationId: true } });
  if (!account) return ignored('unknown customer');
  await tx.billingAccount.update({ where: { stripeCustomerId: customer.id }, data: { stripeCustomerId: null } });
  return applied(account.organizationId);
}
