import { randomUUID } from 'node:crypto';
import type { PrismaClient } from '@cic/db';
import { AppError } from '../errors.ts';
import type { TopicPublisher } from '../lib/topic-bus.ts';
import type { Logger } from '../logger.ts';
import { writeAuditLog } from '../audit/write-audit-log.ts';
import { actorOf, type Operator, type Viewer } from '../auth/viewer.ts';
import { assertPlatformAdmin } from './billing-access.ts';
import { postLedgerEntry } from './ledger.ts';
import { publishBillingChanged } from './publish-billing-changed.ts';

export interface AdjustCreditsOptions {
  prisma: PrismaClient;
  bus: TopicPublisher;
  log?: Logger;
  /** A platform admin (or the admin CLI's operator). */
  viewer: Viewer | Operator;
  organizationId: string;
  /** Signed micro-dollars: positive grants credit, negative takes it away. */
  amountMicros: bigint;
  /** Why, shown in the ledger and the audit log. */
  reason: string;
  requestId?: string | null;
  /**
   * Makes a retried adjustment (same key) post once.
   * @defaultValue a fresh random key
   */
  idempotencyKey?: string;
}

const MAX_ABS_MICROS = 1_000_000n * 1_000_000n; // 1M USD: a typo guard, not a business limit

/**
 * An admin grant or correction: one ADJUSTMENT ledger entry and its audit entry in one transaction, then
 * `billingChanged` so every gateway sees the new balance. This is how credits are added in manual mode.
 */
export async function adjustCredits(options: AdjustCreditsOptions): Promise<{ inserted: boolean; balanceMicros: bigint; sourceId: string }> {
  const { prisma, bus, log, viewer, organizationId, amountMicros, requestId = null } = options;
  assertPlatformAdmin(viewer);
  const actor = actorOf(viewer);
  const reason = options.reason.trim();
  if (reason.length < 3 || reason.length > 500) throw new AppError('BAD_REQUEST', 'Give a reason of 3 to 500 characters.', { param: 'reason' });
  if (amountMicros === 0n || amountMicros > MAX_ABS_MICROS || amountMicros < -MAX_ABS_MICROS) {
    throw new AppError('BAD_REQUEST', 'Amount must be non-zero and at most 1,000,000 USD either way.', { param: 'amountMicros' });
  }
  const org = await prisma.organization.findUnique({ where: { id: organizationId }, select: { id: true } });
  if (!org) throw new AppError('NOT_FOUND', 'Organization not found.');
  const sourceId = `adjustment:${options.idempotencyKey ?? randomUUID()}`;
  const posted = await prisma.$transaction(async (tx) => {
    const entry = await postLedgerEntry(tx, {
      organizationId, type: 'ADJUSTMENT', amountMicros, sourceId, description: reason, createdById: actor.id, metadata: { requestId },
    });
    if (entry.inserted) {
      await writeAuditLog(tx, {
        actor, organizationId, action: 'billing.adjust_credits', targetType: 'ledger_entry', targetId: sourceId,
        metadata: { amountMicros: amountMicros.toString(), reason, balanceMicros: entry.balanceMicros.toString() }, requestId,
      });
    }
    return entry;
  });
  if (posted.inserted) {
    await publishBillingChanged(bus, prisma, organizationId).catch((err: unknown) => log?.warn({ err, organizationId }, 'could not publish billingChanged'));
  }
  return { ...posted, sourceId };
}
