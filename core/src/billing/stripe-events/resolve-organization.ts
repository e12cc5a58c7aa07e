import type { Tx } from './event-effect.ts';

export interface OrganizationRefs {
  /** `metadata.organizationId`, set on the checkout sessions and payment intents we create. */
  metadataOrganizationId?: string | null | undefined;
  customerId?: string | null;
  /** A purchase is posted under its payment intent id, so a later refund or dispute finds it there. */
  paymentIntentId?: string | null;
}

/** The organization an event is about, tried from the most to the least direct reference; null when not ours. */
export async function resolveOrganization(tx: Tx, refs: OrganizationRefs): Promise<string | null> {
  if (refs.metadataOrganizationId) {
    const org = await tx.organization.findUnique({ where: { id: refs.metadataOrganizationId }, select: { id: true } });
    if (org) return org.id;
  }
  if (refs.customerId) {
    const account = await tx.billingAccount.findUnique({ where: { stripeCustomerId: refs.customerId }, select: { organizationId: true } });
    if (account) return account.organizationId;
  }
  if (refs.paymentIntentId) {
    const purchase = await tx.ledgerEntry.findUnique({ where: { sourceId: refs.paymentIntentId }, select: { organizationId: true } });
    if (purchase) return purchase.organizationId;
  }
  return null;
}
