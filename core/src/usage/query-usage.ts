import { Prisma, type PrismaClient } from '@cic/db';
import { AppError } from '../errors.ts';

export type UsageGranularity = 'HOUR' | 'DAY';
export type UsageGroupBy = 'KEY' | 'MODEL';

export interface QueryUsageOptions {
  prisma: PrismaClient;
  organizationId: string;
  from: Date;
  /** Exclusive end. @defaultValue now */
  to?: Date;
  granularity: UsageGranularity;
  /** Split each bucket by API key and/or model. @defaultValue [] (one row per bucket) */
  groupBy?: UsageGroupBy[];
  /**
   * Only requests whose OpenAI `user` field was this. The hourly rollup does not keep `user`, so a filtered
   * series reads the usage records themselves, priced at the current model prices.
   */
  user?: string;
  /**
   * Widest range accepted, in days (a year of hourly rows is still a small scan per organization).
   * @defaultValue 366
   */
  maxRangeDays?: number;
}

export interface UsagePointRow {
  bucket: Date;
  apiKeyId: string | null;
  modelName: string | null;
  requests: bigint;
  errors: bigint;
  promptTokens: bigint;
  completionTokens: bigint;
  costMicros: bigint;
}

/**
 * An organization's usage as a time series. `usage_hourly` (the jobs worker's rollup) is unioned with
 * the usage_records not rolled up yet, so the last minutes show up before the rollup runs; their cost is
 * priced here from the current model prices (the rollup's figure replaces it once it has run).
 * One statement, so a record being rolled up meanwhile is counted exactly once.
 */
export async function queryUsage({ prisma, organizationId, from, to = new Date(), granularity, groupBy = [], user, maxRangeDays = 366 }: QueryUsageOptions): Promise<UsagePointRow[]> {
  if (!(from < to)) throw new AppError('BAD_REQUEST', '`from` must be before `to`.', { param: 'from' });
  if (to.getTime() - from.getTime() > maxRangeDays * 86_400_000) throw new AppError('BAD_REQUEST', `The range may span at most ${maxRangeDays} days.`, { param: 'from' });
  const unit = granularity === 'DAY' ? 'day' : 'hour';
  const byKey = groupBy.includes('KEY');
  const byModel = groupBy.includes('MODEL');
  const keyCol = byKey ? Prisma.sql`api_key_id` : Prisma.sql`NULL::text`;
  const modelCol = byModel ? Prisma.sql`model_name` : Prisma.sql`NULL::text`;
  const groupCols = [Prisma.sql`1`, ...(byKey ? [Prisma.sql`2`] : []), ...(byModel ? [Prisma.sql`3`] : [])];
  // Filtered by user: every record of the range (rolled up or not), since usage_hourly has no user.
  const hourly = user === undefined ? Prisma.sql`TRUE` : Prisma.sql`FALSE`;
  const records = user === undefined ? Prisma.sql`r.rolled_up_at IS NULL` : Prisma.sql`r."user" = ${user}`;
  const rows = await prisma.$queryRaw<UsagePointRow[]>`
    WITH rows AS (
      SELECT date_trunc(${unit}, h.hour) AS bucket, h.api_key_id, h.model_name, h.requests::bigint AS requests,
             h.errors::bigint AS errors, h.prompt_tokens, h.completion_tokens, h.cost_micros
        FROM usage_hourly h
       WHERE ${hourly} AND h.organization_id = ${organizationId} AND h.hour >= date_trunc('hour', ${from}::timestamp) AND h.hour < ${to}::timestamp
      UNION ALL
      SELECT date_trunc(${unit}, r.started_at), r.api_key_id, r.model_name, 1::bigint,
             (CASE WHEN r.outcome = 'ERROR' THEN 1 ELSE 0 END)::bigint, r.prompt_tokens::bigint, r.completion_tokens::bigint,
             (r.prompt_tokens * COALESCE(m.prompt_price_micros, 0) + r.completion_tokens * COALESCE(m.completion_price_micros, 0)) / 1000000
        FROM usage_records r LEFT JOIN served_models m ON m.name = r.model_name
       WHERE r.organization_id = ${organizationId} AND ${records} AND r.started_at >= ${from}::timestamp AND r.started_at < ${to}::timestamp
    )
    SELECT bucket, ${keyCol} AS "apiKeyId", ${modelCol} AS "modelName",
           sum(requests)::bigint AS requests, sum(errors)::bigint AS errors, sum(prompt_tokens)::bigint AS "promptTokens",
           sum(completion_tokens)::bigint AS "completionTokens", sum(cost_micros)::bigint AS "costMicros"
      FROM rows GROUP BY ${Prisma.join(groupCols)} ORDER BY 1, 2, 3`;
  return rows;
}

/** Sums a series into one total. */
export function totalUsage(points: readonly UsagePointRow[]) {
  const total = { requests: 0n, errors: 0n, promptTokens: 0n, completionTokens: 0n, costMicros: 0n };
  for (const p of points) {
    total.requests += p.requests;
    total.errors += p.errors;
    total.promptTokens += p.promptTokens;
    total.completionTokens += p.completionTokens;
    total.costMicros += p.costMicros;
  }
  return total;
}
