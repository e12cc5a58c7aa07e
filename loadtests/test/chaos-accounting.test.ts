// The chaos suite (loadtests/chaos.ts) runs by hand, minutes long; its verdict rests on this accounting, checked
// here on made-up samples and records: an admitted request without a record is lost, a request id with two
// records is doubled, a request that got no answer is neither, and recovery runs to the last bad window.
import { describe, expect, it } from 'vitest';
import { account, recoverySeconds } from '../src/chaos/accounting.ts';
import type { ChaosSample } from '../src/chaos/chaos-load.ts';

const sample = (n: number, at: number, over: Partial<ChaosSample> = {}): ChaosSample => ({
  requestId: `chaos-t-${n}`, at, ms: 100 + n, stream: n % 2 === 0, status: 200, admitted: true, ok: true, clientTokens: 16, ...over,
});

describe('chaos accounting', () => {
  it('counts lost, doubled, unanswered-but-metered requests and tokens on both sides', () => {
    const samples = [
      sample(0, 0.1),
      sample(1, 0.2),
      sample(2, 0.3, { ok: false, clientTokens: 5, error: 'UND_ERR_SOCKET' }), // cut stream
      sample(3, 0.4, { status: 0, admitted: false, ok: false, clientTokens: 0, error: 'UND_ERR_SOCKET' }),
      sample(4, 0.5, { status: 0, admitted: false, ok: false, clientTokens: 0, error: 'UND_ERR_SOCKET' }),
      sample(5, 0.6, { status: 429, admitted: false, ok: false, clientTokens: 0, error: 'rate_limit_exceeded' }),
    ];
    const rows = [
      { requestId: 'chaos-t-0', completionTokens: 16, outcome: 'SUCCESS', errorCode: null },
      { requestId: 'chaos-t-1', completionTokens: 16, outcome: 'SUCCESS', errorCode: null },
      { requestId: 'chaos-t-1', completionTokens: 16, outcome: 'SUCCESS', errorCode: null },
      { requestId: 'chaos-t-2', completionTokens: 3, outcome: 'PARTIAL', errorCode: 'api_instance_lost' },
      { requestId: 'chaos-t-3', completionTokens: 0, outcome: 'PARTIAL', errorCode: 'api_instance_lost' },
    ];
    const a = account(samples, rows, 0, 5);
    expect(a).toMatchObject({ sent: 6, completed: 2, admitted: 3, records: 5, lost: [], doubled: ['chaos-t-1'], noAnswer: 2, noAnswerMetered: 1 });
    expect(a).toMatchObject({ latencyMs: [100, 101], clientTokens: 32, recordedTokens: 32, completedMismatched: 0, cutDelivered: 5, cutUnderMetered: 1 });
    expect(Object.fromEntries(a.recordKinds)).toEqual({ 'PARTIAL api_instance_lost': 2 });
    expect(Object.fromEntries(a.errors)).toEqual({ '200 UND_ERR_SOCKET': 1, '0 UND_ERR_SOCKET': 2, '429 rate_limit_exceeded': 1 });

    const withoutRecord = account(samples, rows.filter((r) => r.requestId !== 'chaos-t-0'), 0, 5);
    expect(withoutRecord.lost).toEqual(['chaos-t-0']);
    expect(withoutRecord.recordedTokens).toBe(16);
    expect(withoutRecord.completedMismatched).toBe(1);
  });

  it('recovery lasts from the fault to the end of the last 1 s window under 99 % success', () => {
    const samples = Array.from({ length: 100 }, (_, i) => sample(i, i / 10, i >= 30 && i < 42 ? { ok: false } : {}));
    // Failures sent from 3.0 s to 4.1 s; the fault at 2.5 s: the last window with one starts at 4.0 s (0.25 s steps) and ends at 5.0 s.
    expect(recoverySeconds(samples, 2.5)).toBe(2.5);
    expect(recoverySeconds(samples.map((s) => ({ ...s, ok: true })), 2.5)).toBe(0);
  });
});
