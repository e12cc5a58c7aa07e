import { describe, expect, it } from 'vitest';
import { budgetInput, monthStart, parseUsdBudget, spendByKey } from '../../src/lib/key-spend.ts';

describe('parseUsdBudget', () => {
  it('reads dollars to the micro-dollar; empty is no budget', () => {
    expect(parseUsdBudget('5')).toBe('5000000');
    expect(parseUsdBudget(' $1,000.25 ')).toBe('1000250000');
    expect(parseUsdBudget('0.000001')).toBe('1');
    expect(parseUsdBudget('0')).toBe('0');
    expect(parseUsdBudget('')).toBeNull();
  });

  it('refuses negative amounts, fractions of a micro-dollar and words', () => {
    for (const raw of ['-1', '0.0000001', 'ten', '1e3', '5.', '12345678']) expect(parseUsdBudget(raw)).toBe('invalid');
  });

  it('budgetInput gives back what a person would type', () => {
    expect(budgetInput('5000000')).toBe('5');
    expect(budgetInput('1')).toBe('0.000001');
    expect(budgetInput('1250000')).toBe('1.25');
    expect(budgetInput(null)).toBe('');
  });
});

describe('spendByKey', () => {
  it('sums each key over the month and over today (UTC) only', () => {
    const now = new Date('2026-03-10T15:00:00Z');
    const spend = spendByKey([
      { bucket: '2026-03-01T00:00:00.000Z', apiKey: { id: 'key_a' }, costMicros: '100' },
      { bucket: '2026-03-10T00:00:00.000Z', apiKey: { id: 'key_a' }, costMicros: '20' },
      { bucket: '2026-03-10T00:00:00.000Z', apiKey: { id: 'key_b' }, costMicros: '7' },
      { bucket: '2026-03-10T00:00:00.000Z', apiKey: null, costMicros: '1000' },
    ], now);
    expect(spend.get('key_a')).toEqual({ todayMicros: 20n, monthMicros: 120n });
    expect(spend.get('key_b')).toEqual({ todayMicros: 7n, monthMicros: 7n });
    expect(monthStart(now).toISOString()).toBe('2026-03-01T00:00:00.000Z');
  });
});
