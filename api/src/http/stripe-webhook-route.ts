import type { PrismaClient } from '@cic/db';
import Stripe from 'stripe';
import { readRawBody } from './read-body.ts';
import { AppError } from '@cic/core/errors';
import { eventTypeLabel, type BillingMetrics } from '@cic/core/billing/billing-metrics';
import { publishBillingChanged } from '@cic/core/billing/publish-billing-changed';
import type { TopicPublisher } from '@cic/core/lib/topic-bus';
import { RetryLaterError } from '@cic/core/billing/stripe-events/event-effect';
import { processStripeEvent, type ProcessedEvent, type ProcessStripeEventOptions } from '@cic/core/billing/stripe-events/process-stripe-event';
import { sendJson } from './respond.ts';
import type { Router } from './router.ts';

export interface StripeWebhookRouteOptions {
  prisma: PrismaClient;
  /** Announces `billingChanged` after an applied event. */
  bus: TopicPublisher;
  metrics: BillingMetrics;
  /** The endpoint's signing secret (whsec_…); undefined = the route answers 503. */
  webhookSecret: string | undefined;
  /**
   * Seconds a signature stays valid; older deliveries (replays) are refused.
   * @defaultValue 300
   */
  toleranceSeconds?: number;
  /** @defaultValue 1048576 (Stripe's events are far smaller) */
  maxBodyBytes?: number;
  /** Test-only: runs inside the event's transaction just before commit (see processStripeEvent). */
  beforeCommit?: ProcessStripeEventOptions['beforeCommit'];
}

export const STRIPE_WEBHOOK_PATH = '/webhooks/stripe';

/**
 * POST /webhooks/stripe: verifies the signature over the raw body, then validates, records and applies the
 * event in one transaction. 200 for applied, duplicate, ignored and rejected (malformed payload, recorded
 * with its reason, never applied) events; 400 for a bad signature; 503 when the event cannot be attributed
 * yet or the database failed, so Stripe redelivers it later.
 */
export function registerStripeWebhookRoute(router: Router, options: StripeWebhookRouteOptions): void {
  const { prisma, bus, metrics, webhookSecret, toleranceSeconds = 300, maxBodyBytes = 1_048_576, beforeCommit } = options;

  router.on('POST', STRIPE_WEBHOOK_PATH, async (req, res, ctx) => {
    if (!webhookSecret) throw new AppError('UNAVAILABLE', 'Stripe webhooks are not configured (STRIPE_WEBHOOK_SECRET is unset).');
    const raw = await readRawBody(req, maxBodyBytes);
    const signature = req.headers['stripe-signature'];
    let event: Stripe.Event;
    try {
      if (typeof signature !== 'string') throw new Error('missing Stripe-Signature header');
      // constructEvent, never verifyHeader directly: its tolerance would default to 0 (no replay window check).
      event = Stripe.webhooks.constructEvent(raw, signature, webhookSecret, toleranceSeconds);
    } catch (err) {
      metrics.webhooks.inc({ type: 'unknown', outcome: 'invalid_signature' });
      ctx.log.warn({ err: (err as Error).message }, 'stripe webhook refused: bad signature');
      throw new AppError('BAD_REQUEST', 'Invalid Stripe signature.', { detail: 'invalid_signature' });
    }

    const type = eventTypeLabel(event.type);
    let processed: ProcessedEvent;
    try {
      processed = await processStripeEvent({ prisma, event, beforeCommit });
    } catch (err) {
      const retry = err instanceof RetryLaterError;
      metrics.webhooks.inc({ type, outcome: retry ? 'deferred' : 'error' });
      ctx.log[retry ? 'warn' : 'error']({ err, eventId: event.id, eventType: event.type }, 'stripe event not applied; Stripe will redeliver');
      throw new AppError('UNAVAILABLE', 'Event not processed; retry later.', { cause: err });
    }
    metrics.webhooks.inc({ type, outcome: processed.outcome });
    if (processed.outcome === 'rejected') {
      ctx.log.warn({ eventId: event.id, eventType: event.type, reason: processed.note }, 'stripe event rejected: its payload failed validation; nothing applied');
    } else {
      ctx.log.info({ eventId: event.id, eventType: event.type, outcome: processed.outcome, note: processed.note }, 'stripe event');
    }
    sendJson(res, 200, { received: true, outcome: processed.outcome });

    // After the response: caches converge through their TTL even if this publish fails.
    for (const organizationId of processed.organizationIds) {
      await publishBillingChanged(bus, prisma, organizationId).catch((err: unknown) =>
        ctx.log.warn({ err, organizationId }, 'could not publish billingChanged'),
      );
    }
  });
}
