import { postLedgerEntry } from '../ledger.ts';
import { centsToMicros } from '../stripe-client.ts';
import { applied, ignored, type EventEffect, type Tx } from './event-effect.ts';
import { resolveOrganization } from './resolve-organization.ts';
import type { CheckoutSessionPayload, PaymentIntentPayload } from './stripe-event-schemas.ts';

interface Purchase {
  paymentIntentId: string;
  amountCents: number;
  currency: string | null;
  metadataOrganizationId: string | undefined;
  customerId: string | null;
  checkoutSessionId: string | null;
}

/**
 * Credits a paid purchase. Checkout sends both `checkout.session.completed` and `payment_intent.succeeded`
 * for one payment: both post under the payment intent's id, so whichever lands first credits and the other
 * is a no-op.
 */
async function creditPurchase(tx: Tx, p: Purchase): Promise<EventEffect> {
  if (p.currency !== 'usd') return ignored(`currency ${p.currency ?? 'none'} is not usd`);
  const organizationId = await resolveOrganization(tx, { metadataOrganizationId: p.metadataOrganizationId, customerId: p.customerId });
  if (!organizationId) return { outcome: 'unmatched', organizationIds: [], note: 'no organization for this payment' };
  const posted = await postLedgerEntry(tx, {
    organizationId,
    type: 'PURCHASE',
    amountMicros: centsToMicros(p.amountCents),
    sourceId: p.paymentIntentId,
    description: `Credit purchase $${(p.amountCents / 100).toFixed(2)}`,
    metadata: { paymentIntentId: p.paymentIntentId, checkoutSessionId: p.checkoutSessionId, amountCents: p.amountCents },
  });
  return posted.inserted ? applied(organizationId) : ignored('payment already credited');
}

export function applyCheckoutSession(tx: Tx, session: CheckoutSessionPayload): Promise<EventEffect> | EventEffect {
  const paymentIntentId = session.payment_intent;
  // Delayed methods (bank debits) complete unpaid; `checkout.session.async_payment_succeeded` follows.
  if (session.mode !== 'payment' || session.payment_status !== 'paid' || !paymentIntentId || session.amount_total === null) {
    return ignored(`session not paid (${session.payment_status})`);
  }
  return creditPurchase(tx, {
    paymentIntentId,
    amountCents: session.amount_total,
    currency: session.currency,
    metadataOrganizationId: session.metadata.organizationId,
    customerId: session.customer,
    checkoutSessionId: session.id,
  });
}

export function applyPaymentIntent(tx: Tx, intent: PaymentIntentPayload): Promise<EventEffect> {
  return creditPurchase(tx, {
    paymentIntentId: intent.id,
    amountCents: intent.amount_received,
    currency: intent.currency,
    metadataOrganizationId: intent.metadata.organizationId,
    customerId: intent.customer,
    checkoutSessionId: null,
  });
}
