import type { PrismaClient } from '@cic/db';
import { percentile } from '../stats.ts';
import type { ChaosSample } from './chaos-load.ts';

interface RecordRow {
  requestId: string;
  completionTokens: number;
  outcome: string;
  errorCode: string | null;
}

/** One fault's books: what the clients saw against the usage records in Postgres. */
export interface Accounts {
  sent: number;
  completed: number;
  admitted: number;
  records: number;
  /** Admitted requests with no usage record. */
  lost: string[];
  /** Request ids with more than one usage record. */
  doubled: string[];
  /** Requests that got no HTTP answer (the client cannot tell whether they were admitted), and how many of them were metered anyway. */
  noAnswer: number;
  noAnswerMetered: number;
  /** Completed requests, send to last byte: p50 and p99 (ms). */
  latencyMs: [number, number];
  /** Completion tokens of completed requests: as the clients saw them, and on their records. */
  clientTokens: number;
  recordedTokens: number;
  /** Completed requests whose record says other completion tokens than the client received. */
  completedMismatched: number;
  /** Admitted requests cut after some tokens: tokens delivered, and how many records say fewer than delivered. */
  cutDelivered: number;
  cutUnderMetered: number;
  /** Records other than SUCCESS: `outcome error_code` → count (a dead instance's requests are `PARTIAL api_instance_lost`). */
  recordKinds: Map<string, number>;
  /** Error kinds: `status code` → count. */
  errors: Map<string, number>;
  /** Seconds from the fault until the success rate stayed at 99 % or more (1 s windows by send time). */
  recoverySeconds: number;
  settleSeconds: number;
}

/** Reads the usage records of one fault's requests (their x-request-ids share `idPrefix`). */
const readRecords = (prisma: PrismaClient, idPrefix: string): Promise<RecordRow[]> =>
  prisma.usageRecord.findMany({ where: { requestId: { startsWith: `${idPrefix}-` } }, select: { requestId: true, completionTokens: true, outcome: true, errorCode: true } });

/**
 * Waits until every admitted request has its record and the count has stopped moving (the usage writers
 * flushed; a dead instance's admissions recovered), at least `minSeconds`, at most `maxSeconds`.
 */
export async function settle(prisma: PrismaClient, idPrefix: string, admitted: Set<string>, minSeconds: number, maxSeconds: number) {
  const t0 = performance.now();
  let previous = -1;
  let rows: RecordRow[] = [];
  for (;;) {
    const elapsed = (performance.now() - t0) / 1000;
    try {
      rows = await readRecords(prisma, idPrefix);
    } catch {
      rows = [];
    }
    const have = new Set(rows.map((r) => r.requestId));
    const complete = [...admitted].every((id) => have.has(id));
    if ((complete && rows.length === previous && elapsed >= minSeconds) || elapsed >= maxSeconds) return { rows, settleSeconds: elapsed };
    previous = rows.length;
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

/** Seconds from `faultAt` to the end of the last 1 s window (0.25 s steps) below 99 % success; 0 if none. */
export function recoverySeconds(samples: ChaosSample[], faultAt: number): number {
  const end = Math.max(...samples.map((s) => s.at));
  let last = faultAt;
  for (let t = faultAt; t + 1 <= end; t += 0.25) {
    const window = samples.filter((s) => s.at >= t && s.at < t + 1);
    if (window.length > 0 && window.filter((s) => s.ok).length / window.length < 0.99) last = t + 1;
  }
  return last - faultAt;
}

export function account(samples: ChaosSample[], rows: RecordRow[], faultAt: number, settleSeconds: number): Accounts {
  const byId = new Map<string, RecordRow[]>();
  for (const r of rows) byId.set(r.requestId, [...(byId.get(r.requestId) ?? []), r]);
  const admitted = samples.filter((s) => s.admitted);
  const completed = samples.filter((s) => s.ok);
  const cut = admitted.filter((s) => !s.ok && s.status === 200 && s.clientTokens > 0);
  const noAnswer = samples.filter((s) => s.status === 0);
  const errors = new Map<string, number>();
  for (const s of samples.filter((x) => !x.ok)) {
    const kind = `${s.status} ${s.error ?? ''}`.trim();
    errors.set(kind, (errors.get(kind) ?? 0) + 1);
  }
  const recordKinds = new Map<string, number>();
  for (const r of rows.filter((x) => x.outcome !== 'SUCCESS')) {
    const kind = `${r.outcome} ${r.errorCode ?? ''}`.trim();
    recordKinds.set(kind, (recordKinds.get(kind) ?? 0) + 1);
  }
  return {
    sent: samples.length,
    completed: completed.length,
    admitted: admitted.length,
    records: rows.length,
    lost: admitted.filter((s) => !byId.has(s.requestId)).map((s) => s.requestId),
    doubled: [...byId].filter(([, list]) => list.length > 1).map(([id]) => id),
    noAnswer: noAnswer.length,
    noAnswerMetered: noAnswer.filter((s) => byId.has(s.requestId)).length,
    latencyMs: [percentile(completed.map((s) => Math.round(s.ms)), 50), percentile(completed.map((s) => Math.round(s.ms)), 99)],
    clientTokens: completed.reduce((sum, s) => sum + s.clientTokens, 0),
    recordedTokens: completed.reduce((sum, s) => sum + (byId.get(s.requestId)?.[0]?.completionTokens ?? 0), 0),
    completedMismatched: completed.filter((s) => byId.get(s.requestId)?.[0]?.completionTokens !== s.clientTokens).length,
    cutDelivered: cut.reduce((sum, s) => sum + s.clientTokens, 0),
    cutUnderMetered: cut.filter((s) => (byId.get(s.requestId)?.[0]?.completionTokens ?? 0) < s.clientTokens).length,
    recordKinds,
    errors,
    recoverySeconds: recoverySeconds(samples, faultAt),
    settleSeconds,
  };
}
