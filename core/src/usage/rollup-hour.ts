import type { Prisma } from '@cic/db';
import { postLedgerEntry } from '../billing/ledger.ts';

/** One (organization, key, model, UTC hour) bucket. `hour` is `YYYY-MM-DDTHH:00:00` (UTC, no zone). */
export interface UsageBucket {
  organizationId: string;
  apiKeyId: string;
  modelName: string;
  hour: string;
}

export interface RolledUpHour {
  requests: number;
  costMicros: bigint;
  /** Micro-dollars charged by this run (new cost minus what the hour had already been charged). */
  chargedMicros: bigint;
}

const MICROS_PER_MILLION_TOKENS = 1_000_000n;

/**
 * Rolls one bucket up inside the caller's transaction. It takes a per-bucket advisory lock, marks the
 * bucket's pending records, then RECOMPUTES the hour's totals from all its records (SET, never +=):
 * running it twice or concurrently cannot double count, and a late record simply re-totals its hour.
 * The hour's cost and its ledger charges commit together, so the charge is always the difference
 * between the new cost and the stored one; its source id carries the hour's request count, which
 * only grows, so each revision of an hour is charged at most once.
 */
export async function rollupHour(tx: Prisma.TransactionClient, b: UsageBucket): Promise<RolledUpHour> {
  const key = `usage:${b.organizationId}:${b.apiKeyId}:${b.modelName}:${b.hour}Z`;
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${key}, 0))`;
  // Mark first, total second: every record marked here is visible to the totals below.
  await tx.$executeRaw`
    UPDATE usage_records SET rolled_up_at = now()
    WHERE organization_id = ${b.organizationId} AND api_key_id = ${b.apiKeyId} AND model_name = ${b.modelName}
      AND started_at >= ${b.hour}::timestamp AND started_at < ${b.hour}::timestamp + interval '1 hour' AND rolled_up_at IS NULL`;
  const [totals] = await tx.$queryRaw<{ requests: bigint; errors: bigint; prompt: bigint; completion: bigint }[]>`
    SELECT count(*) AS requests, count(*) FILTER (WHERE outcome = 'ERROR') AS errors,
           coalesce(sum(prompt_tokens), 0)::bigint AS prompt, coalesce(sum(completion_tokens), 0)::bigint AS completion
    FROM usage_records
    WHERE organization_id = ${b.organizationId} AND api_key_id = ${b.apiKeyId} AND model_name = ${b.modelName}
      AND started_at >= ${b.hour}::timestamp AND started_at < ${b.hour}::timestamp + interval '1 hour'`;
  const model = await tx.servedModel.findUnique({ where: { name: b.modelName }, select: { promptPriceMicros: true, completionPriceMicros: true } });
  const { requests, errors, prompt, completion } = totals!;
  const raw = prompt * (model?.promptPriceMicros ?? 0n) + completion * (model?.completionPriceMicros ?? 0n);
  // Round up once per hour bucket (not per request), so the error is under one micro-dollar per bucket.
  const costMicros = (raw + MICROS_PER_MILLION_TOKENS - 1n) / MICROS_PER_MILLION_TOKENS;
  const [previous] = await tx.$queryRaw<{ cost_micros: bigint }[]>`
    SELECT cost_micros FROM usage_hourly
    WHERE organization_id = ${b.organizationId} AND api_key_id = ${b.apiKeyId} AND model_name = ${b.modelName} AND hour = ${b.hour}::timestamp
    FOR UPDATE`;
  await tx.$executeRaw`
    INSERT INTO usage_hourly (id, organization_id, api_key_id, model_name, hour, requests, errors, prompt_tokens, completion_tokens, cost_micros, updated_at)
    VALUES ('uhr_' || replace(gen_random_uuid()::text, '-', ''), ${b.organizationId}, ${b.apiKeyId}, ${b.modelName}, ${b.hour}::timestamp,
            ${Number(requests)}, ${Number(errors)}, ${prompt}, ${completion}, ${costMicros}, now())
    ON CONFLICT (organization_id, api_key_id, model_name, hour) DO UPDATE SET
      requests = EXCLUDED.requests, errors = EXCLUDED.errors, prompt_tokens = EXCLUDED.prompt_tokens,
      completion_tokens = EXCLUDED.completion_tokens, cost_micros = EXCLUDED.cost_micros, updated_at = now()`;
  const chargedMicros = costMicros - (previous?.cost_micros ?? 0n);
  if (chargedMicros !== 0n) {
    const posted = await postLedgerEntry(tx, {
      organizationId: b.organizationId,
      type: 'USAGE',
      amountMicros: -chargedMicros,
      sourceId: `${key}:${requests}`,
      description: `Usage of ${b.modelName}, ${b.hour}Z hour`,
      metadata: { apiKeyId: b.apiKeyId, modelName: b.modelName, hour: `${b.hour}Z`, requests: Number(requests), promptTokens: prompt.toString(), completionTokens: completion.toString() },
    });
    // Unreachable while the lock holds; if it ever happens, roll back rather than let cost and ledger differ.
    if (!posted.inserted) throw new Error(`usage charge ${key}:${requests} already exists with a different amount`);
  }
  return { requests: Number(requests), costMicros, chargedMicros };
}
