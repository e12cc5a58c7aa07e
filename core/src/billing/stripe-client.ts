import Stripe from 'stripe';
import { AppError } from '../errors.ts';

export interface StripeClientOptions {
  /** sk_live_… / sk_test_…; without it billing runs in manual mode and no client is made. */
  secretKey?: string | undefined;
  /** Another base URL for the API (a local stand-in in tests). @defaultValue https://api.stripe.com */
  apiBase?: string | undefined;
  /**
   * Retries of failed calls; the SDK sends the same idempotency key on each, so a retry never creates twice.
   * @defaultValue 2
   */
  maxNetworkRetries?: number;
  /** @defaultValue 20000 */
  timeoutMs?: number;
}

/** The official Stripe SDK, pointed at `apiBase` when given; null in manual mode. */
export function createStripeClient({ secretKey, apiBase, maxNetworkRetries = 2, timeoutMs = 20_000 }: StripeClientOptions): Stripe | null {
  if (!secretKey) return null;
  const base = apiBase ? new URL(apiBase) : null;
  return new Stripe(secretKey, {
    maxNetworkRetries,
    timeout: timeoutMs,
    ...(base
      ? {
          host: base.hostname,
          port: base.port || (base.protocol === 'http:' ? 80 : 443),
          protocol: base.protocol === 'http:' ? 'http' : 'https',
        }
      : {}),
  });
}

/** The client, or the error the dashboard shows in place of purchase buttons when Stripe is not configured. */
export function requireStripe(stripe: Stripe | null): Stripe {
  if (!stripe) {
    throw new AppError('UNAVAILABLE', 'Stripe is not configured; an admin can grant credits.', { detail: 'billing_manual_mode' });
  }
  return stripe;
}

/** Stripe amounts are cents; the ledger counts micro-dollars. */
export const centsToMicros = (cents: number): bigint => BigInt(cents) * 10_000n;
