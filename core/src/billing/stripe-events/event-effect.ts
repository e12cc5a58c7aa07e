import type { Prisma } from '@cic/db';

export type Tx = Prisma.TransactionClient;

/** What applying one event did; the webhook route publishes `billingChanged` for `organizationIds` after commit. */
export interface EventEffect {
  /** `rejected`: the payload failed validation (stripe-event-schemas.ts); recorded, nothing applied. */
  outcome: 'applied' | 'ignored' | 'unmatched' | 'rejected';
  organizationIds: string[];
  /** Why nothing was applied, for the log (for `rejected`: the validation issues). */
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
