import { applied, ignored, type EventEffect, type Tx } from './event-effect.ts';
import type { CustomerPayload } from './stripe-event-schemas.ts';

/** Forgets a customer deleted in Stripe; the next checkout creates a new one. The ledger is untouched. */
export async function applyCustomerDeleted(tx: Tx, customer: CustomerPayload): Promise<EventEffect> {
  const account = await tx.billingAccount.findUnique({ where: { stripeCustomerId: customer.id }, select: { organizationId: true } });
  if (!account) return ignored('unknown customer');
  await tx.billingAccount.update({ where: { stripeCustomerId: customer.id }, data: { stripeCustomerId: null } });
  return applied(account.organizationId);
}
