import type Stripe from 'stripe';
import { applyCustomerDeleted } from './apply-customer-deleted.ts';
import { applyDisputeClosed, applyDisputeCreated } from './apply-dispute.ts';
import { applyCheckoutSession, applyPaymentIntent } from './apply-purchase.ts';
import { applyChargeRefunded, applyRefundFailed } from './apply-refund.ts';
import { ignored, type EventEffect, type Tx } from './event-effect.ts';

/** Applies one verified event's effect inside the caller's transaction; unknown types are acknowledged and ignored. */
export async function applyStripeEvent(tx: Tx, event: Stripe.Event): Promise<EventEffect> {
  switch (event.type) {
    case 'checkout.session.completed':
    case 'checkout.session.async_payment_succeeded':
      return applyCheckoutSession(tx, event.data.object);
    case 'payment_intent.succeeded':
      return applyPaymentIntent(tx, event.data.object);
    case 'charge.refunded':
      return applyChargeRefunded(tx, event.data.object);
    case 'refund.failed':
      return applyRefundFailed(tx, event.data.object);
    case 'charge.dispute.created':
      return applyDisputeCreated(tx, event.data.object);
    case 'charge.dispute.closed':
      return applyDisputeClosed(tx, event.data.object);
    case 'customer.deleted':
      return applyCustomerDeleted(tx, event.data.object);
    default:
      return ignored(`event type ${event.type} is not handled`);
  }
}
