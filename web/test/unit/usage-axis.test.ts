import { describe, expect, it } from 'vitest';
import { axisTicks, bucketStarts, bucketTitle } from '../../src/lib/usage-buckets.ts';

const now = new Date('2025-12-01T09:30:00Z');

describe('usage chart axis', () => {
  it('7 days of hours: one tick per day start, labelled by date, within the room there is', () => {
    const buckets = bucketStarts(new Date(now.getTime() - 168 * 3_600_000).toISOString(), 'HOUR', now);
    const wide = axisTicks(buckets, 10);
    expect(wide.ticks).toEqual(['2025-11-25T00:00:00.000Z', '2025-11-26T00:00:00.000Z', '2025-11-27T00:00:00.000Z', '2025-11-28T00:00:00.000Z',
      '2025-11-29T00:00:00.000Z', '2025-11-30T00:00:00.000Z', '2025-12-01T00:00:00.000Z']);
    expect(wide.ticks.map(wide.label)).toEqual(['25 Nov', '26 Nov', '27 Nov', '28 Nov', '29 Nov', '30 Nov', '1 Dec']);
    const narrow = axisTicks(buckets, 3);
    expect(narrow.ticks.length).toBeLessThanOrEqual(3);
    expect(new Set(narrow.ticks.map(narrow.label)).size).toBe(narrow.ticks.length);
  });

  it('24 hours: round hours, and the date where a day starts', () => {
    const buckets = bucketStarts(new Date(now.getTime() - 24 * 3_600_000).toISOString(), 'HOUR', now);
    const { ticks, label } = axisTicks(buckets, 5);
    expect(ticks.map(label)).toEqual(['12:00', '18:00', '1 Dec', '06:00']);
  });

  it('30 days of days: a tick every few days', () => {
    const buckets = bucketStarts(new Date(now.getTime() - 720 * 3_600_000).toISOString(), 'DAY', now);
    const { ticks, label } = axisTicks(buckets, 4);
    expect(ticks.length).toBeLessThanOrEqual(4);
    expect(label(ticks[0]!)).toBe('1 Nov');
  });

  it('names a bucket for tooltips', () => {
    expect(bucketTitle('2025-11-30T03:00:00.000Z', 'HOUR')).toBe('30 Nov, 03:00 UTC');
    expect(bucketTitle('2025-11-30T00:00:00.000Z', 'DAY')).toBe('30 Nov');
  });
});
