/** The keys page's spend helpers (browser-safe): budgets typed in dollars, spend per key from the usage series. */

/**
 * A budget typed in US dollars ("5", "0.25", "$1,000") as micro-dollars (a BigInt string for the API);
 * empty means no budget (null). Anything else, negative amounts and fractions of a micro-dollar included, is 'invalid'.
 */
export function parseUsdBudget(raw: string): string | null | 'invalid' {
  const text = raw.trim().replace(/^\$/, '').replaceAll(',', '');
  if (text === '') return null;
  const match = /^(\d{1,7})(?:\.(\d{1,6}))?$/.exec(text);
  if (!match) return 'invalid';
  return String(BigInt(match[1]!) * 1_000_000n + BigInt((match[2] ?? '').padEnd(6, '0')));
}

/** Micro-dollars as the dollars a person would type back ("5", "0.000001"); empty for no budget. */
export function budgetInput(micros: string | null): string {
  if (micros === null) return '';
  const n = BigInt(micros);
  const cents = (n % 1_000_000n).toString().padStart(6, '0').replace(/0+$/, '');
  return cents ? `${n / 1_000_000n}.${cents}` : String(n / 1_000_000n);
}

export interface KeySpend {
  todayMicros: bigint;
  monthMicros: bigint;
}

/**
 * Each key's spend today and this month (UTC) from a DAY series grouped by KEY that starts on the 1st of
 * the month: the same figures the budgets are held to, up to the rounding of each request.
 */
export function spendByKey(points: readonly { bucket: string; apiKey: { id: string } | null; costMicros: string }[], now = new Date()): Map<string, KeySpend> {
  const today = now.toISOString().slice(0, 10);
  const spend = new Map<string, KeySpend>();
  for (const p of points) {
    if (!p.apiKey) continue;
    const s = spend.get(p.apiKey.id) ?? { todayMicros: 0n, monthMicros: 0n };
    const cost = BigInt(p.costMicros);
    s.monthMicros += cost;
    if (p.bucket.slice(0, 10) === today) s.todayMicros += cost;
    spend.set(p.apiKey.id, s);
  }
  return spend;
}

/** Midnight UTC on the 1st of `now`'s month: where a monthly budget's window starts. */
export const monthStart = (now = new Date()): Date => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
