import type { PrismaClient } from '@cic/db';
import type { UsageRecordMessage } from './usage-record.ts';

/**
 * Inserts a batch of usage records in one statement (`unnest` of column arrays), skipping ids already
 * stored, so replays after a crash or a reclaim are harmless. Raw SQL on purpose: it runs on the API
 * process next to the proxy, and Prisma's query compiler costs more CPU per row than the insert itself.
 * Returns the number of rows inserted.
 */
export async function insertUsageRecords(prisma: PrismaClient, records: readonly UsageRecordMessage[]): Promise<number> {
  const col = <K extends keyof UsageRecordMessage>(k: K) => records.map((r) => r[k]);
  return prisma.$executeRaw`
    INSERT INTO usage_records (id, request_id, organization_id, api_key_id, model_name, node_id, endpoint, stream, prompt_tokens,
      completion_tokens, cached_tokens, estimated, ttft_ms, duration_ms, status, outcome, error_code, "user", started_at)
    SELECT id, request_id, organization_id, api_key_id, model_name, node_id, endpoint, stream, prompt_tokens,
      completion_tokens, cached_tokens, estimated, ttft_ms, duration_ms, status, outcome::"UsageOutcome", error_code, "user", started_at::timestamptz AT TIME ZONE 'UTC'
    FROM unnest(${col('id')}::text[], ${col('requestId')}::text[], ${col('organizationId')}::text[], ${col('apiKeyId')}::text[],
      ${col('modelName')}::text[], ${col('nodeId')}::text[], ${col('endpoint')}::text[], ${col('stream')}::boolean[],
      ${col('promptTokens')}::int[], ${col('completionTokens')}::int[], ${col('cachedTokens')}::int[], ${col('estimated')}::boolean[],
      ${col('ttftMs')}::int[], ${col('durationMs')}::int[], ${col('status')}::int[], ${col('outcome')}::text[], ${col('errorCode')}::text[],
      ${records.map((r) => r.user ?? null)}::text[], ${col('startedAt')}::text[])
      AS v(id, request_id, organization_id, api_key_id, model_name, node_id, endpoint, stream, prompt_tokens, completion_tokens,
        cached_tokens, estimated, ttft_ms, duration_ms, status, outcome, error_code, "user", started_at)
    ON CONFLICT (id) DO NOTHING`;
}
