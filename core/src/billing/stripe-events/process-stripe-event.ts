import type { Prisma, PrismaClient } from '@cic/db';
import type Stripe from 'stripe';
import { applyStripeEvent } from './apply-stripe-event.ts';
import { ignored, type EventEffect } from './event-effect.ts';
import { parseStripeEvent } from './stripe-event-schemas.ts';

export interface ProcessStripeEventOptions {
  prisma: PrismaClient;
  /** A verified event (`stripe.webhooks.constructEvent`); its payload is validated here. */
  event: Stripe.Event;
  /**
   * Runs after the effect and before the commit. Tests use it to fail a delivery half-way; nothing in
   * production sets it.
   */
  beforeCommit?: (event: Stripe.Event, tx: Prisma.TransactionClient) => Promise<void> | void;
  /** @defaultValue 10000 */
  timeoutMs?: number;
}

export type ProcessedEvent = EventEffect | { outcome: 'duplicate'; organizationIds: []; note?: string };

/**
 * Records the event id and applies its effect in ONE transaction. The id is the primary key of
 * stripe_events: a redelivery finds it and does nothing; a concurrent delivery of the same event blocks on
 * the first one's uncommitted row and then does nothing (or, if the first rolled back, applies it itself).
 * A failure anywhere rolls back both, so the redelivery starts from a clean state.
 *
 * A payload that fails validation is recorded as REJECTED with the reason and has no effect: the event
 * is acknowledged (Stripe would only redeliver the same bytes) and an operator finds it in stripe_events.
 */
export async function processStripeEvent({ prisma, event, beforeCommit, timeoutMs = 10_000 }: ProcessStripeEventOptions): Promise<ProcessedEvent> {
  const parsed = parseStripeEvent(event);
  // No usable id: nothing to record the rejection under (a signed event always has one).
  if (!parsed.valid && parsed.id === null) return { outcome: 'rejected', organizationIds: [], note: parsed.reason };
  const { id, type, createdAt } = parsed;
  const [status, rejectReason] = parsed.valid ? ['PROCESSED', null] : ['REJECTED', parsed.reason];
  return prisma.$transaction(async (tx) => {
    const recorded = await tx.$executeRaw`
      INSERT INTO stripe_events (id, type, created_at, status, reject_reason)
      VALUES (${id}, ${type}, ${createdAt}, ${status}::"StripeEventStatus", ${rejectReason})
      ON CONFLICT (id) DO NOTHING`;
    if (recorded === 0) return { outcome: 'duplicate', organizationIds: [] } as const;
    let effect: EventEffect;
    if (!parsed.valid) effect = { outcome: 'rejected', organizationIds: [], note: parsed.reason };
    else if (!parsed.payload) effect = ignored(`event type ${type} is not handled`);
    else effect = await applyStripeEvent(tx, parsed.payload);
    await beforeCommit?.(event, tx);
    return effect;
  }, { timeout: timeoutMs, maxWait: timeoutMs });
}
