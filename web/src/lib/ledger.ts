/** How the billing page shows ledger entries (browser-safe). Amounts are micro-dollar strings. */

export interface LedgerEntry { id: string; type: string; amountMicros: string; description: string; createdAt: string }

/** A ledger line on the page: one entry, or a day's usage charges folded into one. */
export interface LedgerLine {
  id: string;
  type: string;
  /** The entry's time; for a folded day, its latest charge. */
  createdAt: string;
  description: string;
  amountMicros: string;
  /** How many usage charges the line stands for (1 = an entry as posted). */
  count: number;
}

const ISO = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?Z/g;
/** What the hourly usage roll-up writes: `Usage of <model>, <hour start>Z hour`. */
const USAGE_HOUR = /^Usage of (.+), (\d{4}-\d{2}-\d{2}T\d{2}):00(?::00(?:\.0+)?)?Z hour$/;

const day = (d: Date) => d.toLocaleDateString('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
const clock = (d: Date) => d.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', timeZone: 'UTC' });

/** An entry's description for people: the usage hour as "03:00–04:00 UTC, 1 Dec 2025", any other instant readable. */
export function describeEntry(description: string): string {
  const usage = USAGE_HOUR.exec(description);
  if (usage) {
    const start = new Date(`${usage[2]}:00:00Z`);
    const end = new Date(start.getTime() + 3_600_000);
    return `${usage[1]}, ${clock(start)}–${clock(end)} UTC, ${day(start)}`;
  }
  return description.replace(ISO, (iso) => {
    const d = new Date(iso);
    return Number.isNaN(d.getTime()) ? iso : `${day(d)} ${clock(d)} UTC`;
  });
}

/**
 * Entries newest first as lines: with `fold`, the usage charges of one UTC day (next to each other in the
 * list) become one line with their sum, so hourly charges of a fraction of a cent do not bury purchases
 * and adjustments. Everything else stays one line per entry.
 */
export function ledgerLines(entries: LedgerEntry[], fold: boolean): LedgerLine[] {
  const lines: LedgerLine[] = [];
  for (const e of entries) {
    const last = lines.at(-1);
    if (fold && e.type === 'USAGE' && last?.type === 'USAGE' && last.createdAt.slice(0, 10) === e.createdAt.slice(0, 10)) {
      last.amountMicros = String(BigInt(last.amountMicros) + BigInt(e.amountMicros));
      last.count += 1;
      last.description = `Usage, ${last.count} hourly charges on ${day(new Date(last.createdAt))}`;
      continue;
    }
    lines.push({ id: e.id, type: e.type, createdAt: e.createdAt, description: describeEntry(e.description), amountMicros: e.amountMicros, count: 1 });
  }
  return lines;
}
