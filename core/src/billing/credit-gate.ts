/**
 * Decides whether an organization may spend on inference right now. The billing area implements it with
 * a cached balance; the proxy calls it once per request, after the rate limiter and before any node is
 * contacted. Throw an AppError('INSUFFICIENT_QUOTA', …, { detail: 'insufficient_quota' }) to refuse (402).
 * It sits on the hot path: answer from memory, never query a database per request.
 */
export interface CreditGate {
  assertCanSpend(organizationId: string): Promise<void> | void;
}

/** The default gate until billing is wired: every organization may spend. */
export const allowAllCreditGate: CreditGate = {
  assertCanSpend: () => undefined,
};
