import type { PrismaClient } from '@cic/db';
import { rollupHour, type UsageBucket } from './rollup-hour.ts';

export interface RollupUsageOptions {
  prisma: PrismaClient;
  /** Most hour buckets handled per call; the rest wait for the next run. @defaultValue 500 */
  maxBuckets?: number;
}

export interface RollupUsageResult {
  buckets: number;
  /** Organizations whose balance changed (publish billingChanged for each). */
  chargedOrganizations: string[];
  chargedMicros: bigint;
}

/**
 * Drains usage_records into usage_hourly and charges the credit ledger: every (organization, key,
 * model, hour) with records not yet rolled up is re-totalled in its own transaction (see rollupHour).
 * Safe to run twice, concurrently, or after a crash at any point.
 */
export async function rollupUsage({ prisma, maxBuckets = 500 }: RollupUsageOptions): Promise<RollupUsageResult> {
  const buckets = await prisma.$queryRaw<UsageBucket[]>`
    SELECT DISTINCT organization_id AS "organizationId", api_key_id AS "apiKeyId", model_name AS "modelName",
           to_char(date_trunc('hour', started_at), 'YYYY-MM-DD"T"HH24:00:00') AS hour
    FROM usage_records WHERE rolled_up_at IS NULL
    ORDER BY hour LIMIT ${maxBuckets}`;
  const charged = new Set<string>();
  let chargedMicros = 0n;
  for (const bucket of buckets) {
    const result = await prisma.$transaction((tx) => rollupHour(tx, bucket));
    if (result.chargedMicros !== 0n) {
      charged.add(bucket.organizationId);
      chargedMicros += result.chargedMicros;
    }
  }
  return { buckets: buckets.length, chargedOrganizations: [...charged], chargedMicros };
}
