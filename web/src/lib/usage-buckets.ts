/** Every bucket start from `from` to now, so charts show the whole range (empty hours included). */
export function bucketStarts(from: string, granularity: 'HOUR' | 'DAY', now = new Date()): string[] {
  const step = granularity === 'DAY' ? 86_400_000 : 3_600_000;
  const start = Math.floor(new Date(from).getTime() / step) * step;
  const out: string[] = [];
  for (let t = start; t <= now.getTime(); t += step) out.push(new Date(t).toISOString());
  return out;
}

const DAY_MS = 86_400_000;
const dayLabel = (d: Date) => d.toLocaleDateString('en-GB', { day: 'numeric', month: 'short', timeZone: 'UTC' });
const hourLabel = (d: Date) => d.toISOString().slice(11, 16);

/**
 * The x-axis of a usage chart: at most `maxTicks` ticks on round instants, each label readable on its
 * own. A range of more than two days gets a tick at the start of a day ("24 Nov"), every day or every few
 * days; a shorter one a tick every few hours ("03:00", with the date where a day starts).
 */
export function axisTicks(buckets: string[], maxTicks: number): { ticks: string[]; label: (iso: string) => string } {
  const times = buckets.map((b) => new Date(b).getTime());
  const span = times.length > 1 ? times.at(-1)! - times[0]! : 0;
  const max = Math.max(2, maxTicks);
  if (span > 2 * DAY_MS) {
    const days = buckets.filter((_, i) => times[i]! % DAY_MS === 0);
    const every = Math.ceil(days.length / max);
    return { ticks: days.filter((_, i) => i % every === 0), label: (iso) => dayLabel(new Date(iso)) };
  }
  const hours = span / 3_600_000;
  const step = [1, 2, 3, 4, 6, 12, 24].find((h) => hours / h <= max) ?? 24;
  return {
    ticks: buckets.filter((_, i) => (times[i]! / 3_600_000) % step === 0),
    label: (iso) => {
      const d = new Date(iso);
      return d.getTime() % DAY_MS === 0 && step < 24 ? dayLabel(d) : hourLabel(d);
    },
  };
}

/** A bucket's full name for tooltips and tables: "24 Nov, 03:00 UTC" (or "24 Nov" for a day bucket). */
export const bucketTitle = (iso: string, granularity: 'HOUR' | 'DAY'): string =>
  granularity === 'DAY' ? dayLabel(new Date(iso)) : `${dayLabel(new Date(iso))}, ${hourLabel(new Date(iso))} UTC`;
