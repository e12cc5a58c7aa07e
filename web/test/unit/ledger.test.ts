import { describe, expect, it } from 'vitest';
import { usdExact } from '../../src/lib/format.ts';
import { describeEntry, ledgerLines, type LedgerEntry } from '../../src/lib/ledger.ts';

const usage = (id: string, createdAt: string, hour: string, amountMicros: string): LedgerEntry =>
  ({ id, type: 'USAGE', amountMicros, createdAt, description: `Usage of cic/sim-echo-1, ${hour}Z hour` });

describe('ledger lines', () => {
  it('describes a usage hour and any other instant without ISO text', () => {
    expect(describeEntry('Usage of cic/sim-echo-1, 2025-12-01T03:00:00Z hour')).toBe('cic/sim-echo-1, 03:00–04:00 UTC, 1 Dec 2025');
    expect(describeEntry('Refund of the 2025-11-30T23:15:00.000Z purchase')).toBe('Refund of the 30 Nov 2025 23:15 UTC purchase');
    expect(describeEntry('e2e goodwill credit')).toBe('e2e goodwill credit');
  });

  it('folds one day\'s usage charges into one line with their sum, and keeps other entries apart', () => {
    const entries: LedgerEntry[] = [
      usage('a', '2025-12-01T05:00:10Z', '2025-12-01T04:00:00', '-12'),
      usage('b', '2025-12-01T04:00:10Z', '2025-12-01T03:00:00', '-1500'),
      { id: 'c', type: 'ADJUSTMENT', amountMicros: '5000000', createdAt: '2025-12-01T03:30:00Z', description: 'goodwill' },
      usage('d', '2025-12-01T03:00:10Z', '2025-12-01T02:00:00', '-3'),
      usage('e', '2025-11-30T23:00:10Z', '2025-11-30T22:00:00', '-4'),
    ];
    const folded = ledgerLines(entries, true);
    expect(folded.map((l) => [l.id, l.count, l.amountMicros])).toEqual([['a', 2, '-1512'], ['c', 1, '5000000'], ['d', 1, '-3'], ['e', 1, '-4']]);
    expect(folded[0]!.description).toBe('Usage, 2 hourly charges on 1 Dec 2025');
    expect(ledgerLines(entries, false).map((l) => l.id)).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('shows fractions of a cent instead of $0.00', () => {
    expect(usdExact('-12')).toBe('-$0.000012');
    expect(usdExact('-1500')).toBe('-$0.0015');
    expect(usdExact('5000000')).toBe('$5.00');
    expect(usdExact('0')).toBe('$0.00');
  });
});
