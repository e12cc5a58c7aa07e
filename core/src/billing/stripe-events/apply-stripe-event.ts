import { applyCustomerDeleted } from './apply-customer-deleted.ts';
import { applyDisputeClosed, applyDisputeCreated } from './apply-dispute.ts';
import { applyCheckoutSession, applyPaymentIntent } from './apply-purchase.ts';
import { applyChargeRefunded, applyRefundFailed } from './apply-refund.ts';
import type { EventEffect, Tx } from './event-effect.ts';
import type { StripeEventPayload } from './stripe-event-schemas.ts';

/** Applies one validated event's effect inside the caller's transaction. */
export async function applyStripeEvent(tx: Tx, payload: StripeEventPayload): Promise<EventEffect> {
  switch (payload.type) {
    case 'checkout.session.completed':
    case 'checkout.session.async_payment_succeeded':
      return applyCheckoutSession(tx, payload.object);
    case 'payment_intent.succeeded':
      return applyPaymentIntent(tx, payload.object);
    case 'charge.refunded':
      return applyChargeRefunded(tx, payload.object);
    case 'refund.failed':
      return applyRefundFailed(tx, payload.object);
    case 'charge.dispute.created':
      return applyDisputeCreated(tx, payload.object);
    case 'charge.dispute.closed':
      return applyDisputeClosed(tx, payload.object);
    case 'customer.deleted':
      return applyCustomerDeleted(tx, payload.object);
  }
}
