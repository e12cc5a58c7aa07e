/** Display helpers shared by pages (browser-safe). Money arrives as micro-dollar strings (BigInt on the API). */

export function usd(micros: string | number | bigint | null | undefined, digits = 2): string {
  if (micros === null || micros === undefined) return '—';
  const value = Number(BigInt(micros)) / 1_000_000;
  return value.toLocaleString('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: digits, maximumFractionDigits: Math.max(digits, 4) });
}

/** Dollars to the micro-dollar, trailing zeros dropped: a fraction of a cent never reads "$0.00" (e.g. "-$0.000012"). */
export const usdExact = (micros: string | number | bigint): string =>
  (Number(BigInt(micros)) / 1_000_000).toLocaleString('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 6 });

export const num = (n: number | string | null | undefined): string => (n === null || n === undefined ? '—' : Number(n).toLocaleString('en-US'));

export function when(iso: string | null | undefined): string {
  if (!iso) return 'never';
  return new Date(iso).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' }) + ' UTC';
}

/** To the second, for logs whose lines come seconds apart, e.g. "1 Dec 2026, 05:14:03 UTC". */
export function whenExact(iso: string): string {
  return new Date(iso).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'medium', timeZone: 'UTC' }) + ' UTC';
}

const STATUS_TONE: Record<string, string> = {
  READY: 'ok', ACTIVE: 'ok', PENDING: 'warn', PROVISIONING: 'warn', STARTING: 'warn', DRAINING: 'warn',
  TERMINATING: 'warn', UNHEALTHY: 'bad', FAILED: 'bad', REVOKED: 'bad', EXPIRED: 'bad',
};
export const tone = (status: string): string => STATUS_TONE[status] ?? '';

/** Compact time for dense tables, e.g. "29 Nov 02:56" (with `seconds`, "29 Nov 02:56:07"). */
export const shortWhen = (iso: string | null | undefined, { seconds = false } = {}): string =>
  iso ? new Date(iso).toLocaleString('en-GB', { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', ...(seconds ? { second: '2-digit' } : {}), timeZone: 'UTC' }) : '—';
