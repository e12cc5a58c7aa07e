import type { Prisma } from '@cic/db';

export type Tx = Prisma.TransactionClient;

/** What applying one event did; the webhook route publishes `billingChanged` for `organizationIds` after commit. */
export interface EventEffect {
  outcome: 'applied' | 'ignored' | 'unmatched';
  organizationIds: string[];
  /** Why nothing was applied, for the log. */
  note?: string;
}

/**
 * The event belongs to an organization we cannot identify yet (a refund or dispute whose purchase has not
 * arrived). Thrown inside the transaction, so the event id is not recorded and Stripe's redelivery retries.
 */
export class RetryLaterError extends Error {
  override name = 'RetryLaterError';
}

export const ignored = (note: string): EventEffect => ({ outcome: 'ignored', organizationIds: [], note });
export const applied = (...organizationIds: string[]): EventEffect => ({ outcome: 'applied', organizationIds });

/** Stripe fields that hold either an id or the expanded object. */
export const idOf = (ref: string | { id: string } | null | undefined): string | null => (typeof ref === 'string' ? ref : (ref?.id ?? null));
