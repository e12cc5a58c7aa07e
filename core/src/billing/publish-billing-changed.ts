import type { PrismaClient } from '@cic/db';
import type { TopicPublisher } from '../lib/topic-bus.ts';
import type { TopicPayloads } from '../lib/topics.ts';
import { writeAuditLog } from '../audit/write-audit-log.ts';

const SYSTEM = { type: 'SYSTEM', id: 'billing' } as const;

/**
 * Tells every API instance (balance caches, dashboard subscriptions) an organization's current balance
 * and frozen state. Call it after any commit that changed the ledger or the frozen flag: webhooks,
 * admin adjustments, the usage roll-up. It also keeps the low-balance notice: the first time the
 * balance is below the account's threshold it stamps `low_balance_notified_at` and writes one audit
 * entry (the conditional UPDATE makes that once even when several processes publish at the same time);
 * a top-up above the threshold clears the stamp so the next dip notifies again.
 */
export async function publishBillingChanged(bus: TopicPublisher, prisma: PrismaClient, organizationId: string): Promise<TopicPayloads['billingChanged'] | null> {
  const org = await prisma.organization.findUnique({
    where: { id: organizationId },
    select: { frozenAt: true, billingAccount: { select: { balanceMicros: true, lowBalanceMicros: true, lowBalanceNotifiedAt: true } } },
  });
  if (!org) return null;
  const account = org.billingAccount;
  const balanceMicros = account?.balanceMicros ?? 0n;
  const low = account ? balanceMicros < account.lowBalanceMicros : balanceMicros <= 0n;
  if (account && low && !account.lowBalanceNotifiedAt) {
    await prisma.$transaction(async (tx) => {
      const stamped = await tx.$executeRaw`
        UPDATE billing_accounts SET low_balance_notified_at = now(), updated_at = now()
        WHERE organization_id = ${organizationId} AND low_balance_notified_at IS NULL AND balance_micros < low_balance_micros`;
      if (stamped === 1) {
        await writeAuditLog(tx, {
          actor: SYSTEM, organizationId, action: 'billing.low_balance', targetType: 'organization', targetId: organizationId,
          metadata: { balanceMicros: balanceMicros.toString(), thresholdMicros: account.lowBalanceMicros.toString() },
        });
      }
    });
  } else if (account && !low && account.lowBalanceNotifiedAt) {
    await prisma.$executeRaw`
      UPDATE billing_accounts SET low_balance_notified_at = NULL, updated_at = now()
      WHERE organization_id = ${organizationId} AND balance_micros >= low_balance_micros`;
  }
  const payload = { organizationId, balanceMicros: balanceMicros.toString(), frozen: org.frozenAt !== null, low };
  await bus.publish('billingChanged', payload, organizationId);
  return payload;
}
