import fc from 'fast-check';
import type Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postLedgerEntry } from '@cic/core/billing/ledger';
import { processStripeEvent } from '@cic/core/billing/stripe-events/process-stripe-event';
import { createBillingWorld, paidSession, refundedCharge, stripeEvent, succeededIntent, type BillingWorld } from './billing-fixture.ts';

let w: BillingWorld;
beforeAll(async () => {
  w = await createBillingWorld();
});
afterAll(async () => {
  await w?.close();
});

/**
 * One thing that can reach the ledger, by index: a Stripe object (payment intent, refund) or a usage hour
 * always has the same amount, which the run's tables give.
 */
type Op =
  | { kind: 'purchase'; via: 'session' | 'intent'; n: number }
  | { kind: 'usage'; n: number }
  | { kind: 'refund'; n: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('purchase' as const), via: fc.constantFrom('session' as const, 'intent' as const), n: fc.nat(4) }),
  fc.record({ kind: fc.constant('usage' as const), n: fc.nat(6) }),
  fc.record({ kind: fc.constant('refund' as const), n: fc.nat(4) }),
);
const tableArb = (length: number, min: number, max: number) => fc.array(fc.integer({ min, max }), { minLength: length, maxLength: length });

describe('ledger property', () => {
  it('for random interleavings of purchases, usage, refunds and duplicate deliveries, balance = sum of distinct entries', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(opArb, { minLength: 1, maxLength: 14 }), fc.array(fc.nat(), { maxLength: 6 }), fc.integer({ min: 1, max: 4 }),
        tableArb(5, 50, 10_000), tableArb(7, 1, 20_000_000), tableArb(5, 1, 5_000),
        async (ops, dupes, parallel, purchaseCents, usageMicros, refundCents) => {
        const org = await w.createOrg();
        const tag = org.id.slice(-8);
        // Each source id counts once, however many events carry it.
        const expected = new Map<string, bigint>();
        const deliveries: (() => Promise<unknown>)[] = [];
        const eventsById = new Map<string, Stripe.Event>();
        const deliverEvent = (event: Stripe.Event) => () => processStripeEvent({ prisma: w.prisma, event });

        for (const op of ops) {
          if (op.kind === 'usage') {
            const sourceId = `usage:${tag}:${op.n}`;
            const amount = -BigInt(usageMicros[op.n]!);
            expected.set(sourceId, amount);
            deliveries.push(() => postLedgerEntry(w.prisma, { organizationId: org.id, type: 'USAGE', amountMicros: amount, sourceId, description: 'usage hour' }));
            continue;
          }
          let event: ReturnType<typeof stripeEvent>;
          let sourceId: string;
          if (op.kind === 'purchase') {
            const cents = purchaseCents[op.n]!;
            sourceId = `pi_${tag}_${op.n}`;
            expected.set(sourceId, BigInt(cents) * 10_000n);
            event = op.via === 'session'
              ? stripeEvent('checkout.session.completed', paidSession({ organizationId: org.id, paymentIntentId: sourceId, amountCents: cents }))
              : stripeEvent('payment_intent.succeeded', succeededIntent({ organizationId: org.id, id: sourceId, amountCents: cents }));
          } else {
            // Refund n always belongs to the same charge (a refund is one Stripe object).
            const cents = refundCents[op.n]!;
            sourceId = `re_${tag}_${op.n}`;
            expected.set(sourceId, -BigInt(cents) * 10_000n);
            event = stripeEvent('charge.refunded', refundedCharge({
              paymentIntentId: `pi_${tag}_${op.n % 5}`, organizationId: org.id, amountCents: 10_000, amountRefunded: cents, refunds: [{ id: sourceId, amount: cents }],
            }));
          }
          eventsById.set(event.id, event as unknown as Stripe.Event);
          deliveries.push(deliverEvent(event as unknown as Stripe.Event));
        }
        // Redeliveries of events already in the list, at random positions.
        const events = [...eventsById.values()];
        for (const d of dupes) if (events.length > 0) deliveries.splice(d % (deliveries.length + 1), 0, deliverEvent(events[d % events.length]!));

        // Run in groups of `parallel` so concurrent duplicates race on the same keys.
        for (let i = 0; i < deliveries.length; i += parallel) await Promise.all(deliveries.slice(i, i + parallel).map((run) => run()));

        const entries = await w.prisma.ledgerEntry.findMany({ where: { organizationId: org.id } });
        const sumOfEntries = entries.reduce((s, e) => s + e.amountMicros, 0n);
        const expectedSum = [...expected.values()].reduce((s, v) => s + v, 0n);
        expect(new Set(entries.map((e) => e.sourceId))).toEqual(new Set(expected.keys()));
        expect(await w.balanceOf(org.id)).toBe(sumOfEntries);
        expect(sumOfEntries).toBe(expectedSum);
        },
      ),
      { numRuns: 50 },
    );
  });
});
