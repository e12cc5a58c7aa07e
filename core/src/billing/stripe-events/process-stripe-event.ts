import type { Prisma, PrismaClient } from '@cic/db';
import type Stripe from 'stripe';
import { applyStripeEvent } from './apply-stripe-event.ts';
import type { EventEffect } from './event-effect.ts';

export interface ProcessStripeEventOptions {
  prisma: PrismaClient;
  /** A verified event (`stripe.webhooks.constructEvent`). */
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
 */
export async function processStripeEvent({ prisma, event, beforeCommit, timeoutMs = 10_000 }: ProcessStripeEventOptions): Promise<ProcessedEvent> {
  return prisma.$transaction(async (tx) => {
    const recorded = await tx.$executeRaw`
      INSERT INTO stripe_events (id, type, created_at) VALUES (${event.id}, ${event.type}, ${new Date(event.created * 1000)})
      ON CONFLICT (id) DO NOTHING`;
    if (recorded === 0) return { outcome: 'duplicate', organizationIds: [] } as const;
    const effect = await applyStripeEvent(tx, event);
    await beforeCommit?.(event, tx);
    return effect;
  }, { timeout: timeoutMs, maxWait: timeoutMs });
}
