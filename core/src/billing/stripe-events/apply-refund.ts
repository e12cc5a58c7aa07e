import { postLedgerEntry } from '../ledger.ts';
import { centsToMicros } from '../stripe-client.ts';
import { applied, ignored, RetryLaterError, type EventEffect, type Tx } from './event-effect.ts';
import { resolveOrganization } from './resolve-organization.ts';
import type { ChargePayload, RefundPayload } from './stripe-event-schemas.ts';

/** Refunds that take money back: a pending refund is already on its way out. */
const COUNTED = new Set(['succeeded', 'pending']);

/**
 * Posts a `charge.refunded` as negative REFUND entries. When the charge carries its refund list, each
 * refund is one entry keyed by its own id (order-independent by construction). API versions that no
 * longer embed `refunds` only give the cumulative `amount_refunded`: then the missing difference is posted
 * under `<charge>:refunded:<cumulative cents>` with the account row locked, so redeliveries and events
 * arriving out of order converge on the largest cumulative amount.
 */
export async function applyChargeRefunded(tx: Tx, charge: ChargePayload): Promise<EventEffect> {
  if (charge.currency !== 'usd') return ignored(`currency ${charge.currency} is not usd`);
  const paymentIntentId = charge.payment_intent;
  const organizationId = await resolveOrganization(tx, {
    metadataOrganizationId: charge.metadata.organizationId,
    customerId: charge.customer,
    paymentIntentId,
  });
  // Its purchase may simply not have arrived yet: let Stripe redeliver rather than lose the refund.
  if (!organizationId) throw new RetryLaterError(`no organization yet for refunded charge ${charge.id}`);
  const metadata = { chargeId: charge.id, paymentIntentId };

  const list = charge.refunds;
  if (list && !list.has_more) {
    let posted = false;
    for (const refund of list.data) {
      if (!COUNTED.has(refund.status ?? '')) continue;
      const r = await postLedgerEntry(tx, {
        organizationId, type: 'REFUND', amountMicros: -centsToMicros(refund.amount), sourceId: refund.id,
        description: `Refund $${(refund.amount / 100).toFixed(2)}`, metadata: { ...metadata, refundId: refund.id },
      });
      posted ||= r.inserted;
    }
    return posted ? applied(organizationId) : ignored('refunds already posted');
  }

  await tx.$executeRaw`
    INSERT INTO billing_accounts (organization_id, updated_at) VALUES (${organizationId}, now()) ON CONFLICT (organization_id) DO NOTHING`;
  await tx.$queryRaw`SELECT 1 FROM billing_accounts WHERE organization_id = ${organizationId} FOR UPDATE`;
  const sum = await tx.ledgerEntry.aggregate({
    where: { organizationId, type: 'REFUND', metadata: { path: ['chargeId'], equals: charge.id } },
    _sum: { amountMicros: true },
  });
  const alreadyMicros = -(sum._sum.amountMicros ?? 0n);
  const missingMicros = centsToMicros(charge.amount_refunded) - alreadyMicros;
  if (missingMicros <= 0n) return ignored('refunded amount already posted');
  await postLedgerEntry(tx, {
    organizationId, type: 'REFUND', amountMicros: -missingMicros, sourceId: `${charge.id}:refunded:${charge.amount_refunded}`,
    description: `Refund $${(Number(missingMicros) / 1e6).toFixed(2)}`, metadata,
  });
  return applied(organizationId);
}

/**
 * `refund.failed`: the money never left, so the refund's debit is reversed by a positive REFUND entry
 * keyed `<refund id>:failed` and tied to the charge (the charge's net refunds then match Stripe's again,
 * and a redelivered `charge.refunded` posts nothing: its entries already exist). The debit is the refund's
 * own entry, or, for API versions without refund lists, part of the charge's cumulative entries. A refund
 * not posted yet (its `charge.refunded` has not arrived) is retried later, like a refund before its purchase.
 */
export async function applyRefundFailed(tx: Tx, refund: RefundPayload): Promise<EventEffect> {
  if (refund.currency !== 'usd') return ignored(`currency ${refund.currency} is not usd`);
  const chargeId = refund.charge;
  const own = await tx.ledgerEntry.findUnique({ where: { sourceId: refund.id }, select: { organizationId: true } });
  let organizationId = own?.organizationId ?? null;
  if (!organizationId && chargeId) {
    const refunds = await tx.ledgerEntry.groupBy({
      by: ['organizationId'], where: { type: 'REFUND', metadata: { path: ['chargeId'], equals: chargeId } }, _sum: { amountMicros: true },
    });
    // The cumulative entries must still hold this refund's amount (net of earlier reversals).
    const holding = refunds.find((r) => -(r._sum.amountMicros ?? 0n) >= centsToMicros(refund.amount));
    organizationId = holding?.organizationId ?? null;
  }
  if (!organizationId) throw new RetryLaterError(`refund ${refund.id} has not been posted yet`);
  const reversed = await postLedgerEntry(tx, {
    organizationId, type: 'REFUND', amountMicros: centsToMicros(refund.amount), sourceId: `${refund.id}:failed`,
    description: `Failed refund returned $${(refund.amount / 100).toFixed(2)}`,
    metadata: { chargeId, refundId: refund.id, failureReason: refund.failure_reason ?? null },
  });
  return reversed.inserted ? applied(organizationId) : ignored('failed refund already reversed');
}
