import { publishBillingChanged } from '@cic/core/billing/publish-billing-changed';
import { rollupUsage } from '@cic/core/usage/rollup-usage';
import type { JobContext } from './job-context.ts';

/** `usage.rollup`: drains usage records into usage_hourly and the ledger, then tells the API about new balances. */
export async function handleUsageRollup(ctx: JobContext): Promise<{ buckets: number; chargedMicros: string }> {
  const result = await rollupUsage({ prisma: ctx.prisma });
  for (const organizationId of result.chargedOrganizations) await publishBillingChanged(ctx.bus, ctx.prisma, organizationId);
  ctx.metrics.usageChargedMicros.inc(Number(result.chargedMicros));
  return { buckets: result.buckets, chargedMicros: result.chargedMicros.toString() };
}
