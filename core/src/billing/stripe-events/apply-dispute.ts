import { writeAuditLog } from '../../audit/write-audit-log.ts';
import { postLedgerEntry } from '../ledger.ts';
import { centsToMicros } from '../stripe-client.ts';
import { applied, ignored, RetryLaterError, type EventEffect, type Tx } from './event-effect.ts';
import { resolveOrganization } from './resolve-organization.ts';
import type { DisputePayload } from './stripe-event-schemas.ts';

const STRIPE = { type: 'SYSTEM', id: 'stripe' } as const;
const DISPUTE_REASON_PREFIX = 'payment dispute';

async function organizationOf(tx: Tx, dispute: DisputePayload): Promise<string> {
  const organizationId = await resolveOrganization(tx, { metadataOrganizationId: dispute.metadata.organizationId, paymentIntentId: dispute.payment_intent });
  if (!organizationId) throw new RetryLaterError(`no organization yet for dispute ${dispute.id}`);
  return organizationId;
}

const closedRecord = (tx: Tx, disputeId: string) =>
  tx.auditLog.findFirst({ where: { action: 'billing.dispute_closed', targetType: 'dispute', targetId: disputeId }, select: { id: true } });

/**
 * Freezes the organization's inference while a dispute is open. If the dispute's `closed` event already
 * arrived (out of order) nothing is frozen, so the final state does not depend on delivery order.
 */
export async function applyDisputeCreated(tx: Tx, dispute: DisputePayload): Promise<EventEffect> {
  const organizationId = await organizationOf(tx, dispute);
  if (await closedRecord(tx, dispute.id)) return ignored('dispute already closed');
  await tx.organization.updateMany({
    where: { id: organizationId, frozenAt: null },
    data: { frozenAt: new Date(), frozenReason: `${DISPUTE_REASON_PREFIX} ${dispute.id}` },
  });
  await writeAuditLog(tx, {
    actor: STRIPE, organizationId, action: 'billing.freeze', targetType: 'dispute', targetId: dispute.id,
    metadata: { reason: dispute.reason ?? null, amountCents: dispute.amount, chargeId: dispute.charge },
  });
  return applied(organizationId);
}

/**
 * Records the outcome; a lost dispute takes the disputed credits back (keyed by the dispute id). The
 * organization is unfrozen once no dispute of it is open any more.
 */
export async function applyDisputeClosed(tx: Tx, dispute: DisputePayload): Promise<EventEffect> {
  const organizationId = await organizationOf(tx, dispute);
  await writeAuditLog(tx, {
    actor: STRIPE, organizationId, action: 'billing.dispute_closed', targetType: 'dispute', targetId: dispute.id,
    metadata: { status: dispute.status, amountCents: dispute.amount },
  });
  if (dispute.status === 'lost' && dispute.currency === 'usd') {
    await postLedgerEntry(tx, {
      organizationId, type: 'REFUND', amountMicros: -centsToMicros(dispute.amount), sourceId: dispute.id,
      description: `Dispute lost $${(dispute.amount / 100).toFixed(2)}`, metadata: { disputeId: dispute.id, chargeId: dispute.charge },
    });
  }
  const [frozen, closed] = await Promise.all([
    tx.auditLog.findMany({ where: { organizationId, action: 'billing.freeze', targetType: 'dispute' }, select: { targetId: true } }),
    tx.auditLog.findMany({ where: { organizationId, action: 'billing.dispute_closed', targetType: 'dispute' }, select: { targetId: true } }),
  ]);
  const closedIds = new Set(closed.map((c) => c.targetId));
  if (frozen.some((f) => !closedIds.has(f.targetId))) return applied(organizationId);
  const unfrozen = await tx.organization.updateMany({
    where: { id: organizationId, frozenAt: { not: null }, frozenReason: { startsWith: DISPUTE_REASON_PREFIX } },
    data: { frozenAt: null, frozenReason: null },
  });
  if (unfrozen.count > 0) {
    await writeAuditLog(tx, { actor: STRIPE, organizationId, action: 'billing.unfreeze', targetType: 'dispute', targetId: dispute.id, metadata: { status: dispute.status } });
  }
  return applied(organizationId);
}
