/** The Requests page's row and filters (browser-safe). */
export interface RequestRow {
  id: string;
  requestId: string;
  startedAt: string;
  model: string;
  endpoint: string;
  stream: boolean;
  status: number;
  outcome: 'SUCCESS' | 'PARTIAL' | 'CLIENT_ABORTED' | 'ERROR';
  promptTokens: number;
  completionTokens: number;
  ttftMs: number | null;
  durationMs: number;
  /** Micro-dollars (a BigInt string). */
  costMicros: string;
  apiKey: { id: string; name: string };
}

export const STATUS_CLASSES = [['SUCCESS', 'Succeeded'], ['CLIENT_ERROR', 'Client errors (4xx)'], ['SERVER_ERROR', 'Server errors (5xx)']] as const;
export type StatusClass = (typeof STATUS_CLASSES)[number][0];

/** ?key=&model=&status=&after= from the address; anything unknown is no filter. */
export function requestFilters(url: URL) {
  const text = (k: string) => url.searchParams.get(k)?.trim() || null;
  const status = STATUS_CLASSES.map(([v]) => v).find((v) => v === url.searchParams.get('status')) ?? null;
  return { key: text('key'), model: text('model'), status: status as StatusClass | null, after: text('after') };
}

/** Milliseconds as people read them: "850 ms", "2.4 s". */
export const duration = (ms: number | null): string => (ms === null ? '—' : ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`);

/** The outcome when the status alone does not say it (a 200 stream cut short, a client that left). */
export const outcomeNote = (r: Pick<RequestRow, 'outcome'>): string | null =>
  r.outcome === 'PARTIAL' ? 'partial' : r.outcome === 'CLIENT_ABORTED' ? 'client left' : null;
