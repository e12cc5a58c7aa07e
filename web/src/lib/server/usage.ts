import type { RequestEvent } from '@sveltejs/kit';
import { bucketStarts } from '$lib/usage-buckets';
import { tryGql } from './api';

export interface UsagePoint {
  bucket: string;
  apiKeyName: string | null;
  model: string | null;
  requests: number;
  promptTokens: number;
  completionTokens: number;
  costMicros: string;
}

export const RANGES = { '24h': { hours: 24, granularity: 'HOUR' }, '7d': { hours: 168, granularity: 'HOUR' }, '30d': { hours: 720, granularity: 'DAY' } } as const;
export type RangeKey = keyof typeof RANGES;

/** Reads ?range=24h|7d|30d and ?by=key|model|none, with safe defaults. */
export function usageParams(url: URL) {
  const range = (url.searchParams.get('range') ?? '24h') as RangeKey;
  const r = RANGES[range] ?? RANGES['24h'];
  const by = (['key', 'model', 'none'] as const).find((b) => b === url.searchParams.get('by')) ?? 'none';
  const granularity = url.searchParams.get('granularity') === 'DAY' ? 'DAY' : r.granularity;
  return { range: RANGES[range] ? range : '24h', by, granularity, from: new Date(Date.now() - r.hours * 3600_000).toISOString() };
}

/** The organization's usage series from the API, split as asked. */
export async function loadUsage(event: Pick<RequestEvent, 'locals' | 'fetch' | 'url' | 'cookies'>, organizationId: string) {
  const p = usageParams(event.url);
  const groupBy = p.by === 'key' ? ['KEY'] : p.by === 'model' ? ['MODEL'] : [];
  interface WirePoint { bucket: string; model: string | null; apiKey: { name: string } | null; requests: string; promptTokens: string; completionTokens: string; costMicros: string }
  const res = await tryGql<{ organization: { usage: { points: WirePoint[] } } | null }>(event, `
    query Usage($id: ID!, $from: DateTime!, $granularity: UsageGranularity!, $groupBy: [UsageGroupBy!]) {
      organization(id: $id) {
        usage(from: $from, granularity: $granularity, groupBy: $groupBy) {
          points { bucket model apiKey { name } requests promptTokens completionTokens costMicros }
        }
      }
    }
  `, { id: organizationId, from: p.from, granularity: p.granularity, groupBy });
  // Counts are BigInt on the API (strings on the wire); per-bucket values fit a JS number.
  const points: UsagePoint[] = res.data?.organization?.usage.points.map((p) => ({
    bucket: p.bucket, model: p.model, apiKeyName: p.apiKey?.name ?? null, costMicros: p.costMicros,
    requests: Number(p.requests), promptTokens: Number(p.promptTokens), completionTokens: Number(p.completionTokens),
  })) ?? [];
  return { params: p, points, buckets: bucketStarts(p.from, p.granularity), problem: res.problem };
}

