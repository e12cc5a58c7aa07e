import { randomBytes, randomInt } from 'node:crypto';
import Stripe from 'stripe';
import type { Fault } from './fault.ts';

/** The secret the chaos stack's API instances verify Stripe signatures with (STRIPE_WEBHOOK_SECRET). */
export const CHAOS_WEBHOOK_SECRET = `whsec_chaos_${randomBytes(12).toString('hex')}`;

const PAYMENTS = 25;
/** Each payment's two events (checkout.session.completed, payment_intent.succeeded), each delivered this often. */
const COPIES = 4;
const CONCURRENCY = 20;

const event = (type: string, object: Record<string, unknown>) => ({
  id: `evt_chaos_${randomBytes(8).toString('hex')}`, object: 'event', api_version: Stripe.API_VERSION, created: Math.floor(Date.now() / 1000),
  livemode: false, pending_webhooks: 1, request: { id: null, idempotency_key: null }, type, data: { object },
});

/** The two events Stripe sends for one paid checkout of `cents` (both name the same payment intent). */
function paymentEvents(organizationId: string, paymentIntentId: string, cents: number) {
  const metadata = { organizationId };
  return [
    event('checkout.session.completed', {
      id: `cs_chaos_${randomBytes(6).toString('hex')}`, object: 'checkout.session', mode: 'payment', payment_status: 'paid', status: 'complete',
      amount_total: cents, currency: 'usd', customer: null, payment_intent: paymentIntentId, metadata,
    }),
    event('payment_intent.succeeded', {
      id: paymentIntentId, object: 'payment_intent', status: 'succeeded', amount: cents, amount_received: cents, currency: 'usd', customer: null, metadata,
    }),
  ];
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/**
 * 200 signed webhooks for 25 payments (each payment's two events, each delivered 4 times), shuffled and
 * sent 20 at a time through the balancer to both API instances under the inference load. Passes when
 * every payment is credited exactly once and the balance equals the sum of the ledger entries.
 */
export function webhookStorm(): Fault {
  let organizationId = '';
  const payments = new Map<string, number>();
  const statuses = new Map<number, number>();
  return {
    name: 'webhook-storm',
    what: `${PAYMENTS * 2 * COPIES} Stripe webhooks (${PAYMENTS} payments × 2 events × ${COPIES} deliveries, each signed anew), shuffled, ${CONCURRENCY} at a time`,
    durationSeconds: 15,
    atSecond: 3,
    settleSeconds: { min: 3, max: 30 },
    async strike({ stack, prisma, log }) {
      const slug = `chaos-${randomBytes(4).toString('hex')}`;
      organizationId = (await prisma.organization.create({ data: { name: slug, slug, billingAccount: { create: {} } } })).id;
      const deliveries: object[] = [];
      for (let i = 0; i < PAYMENTS; i++) {
        const paymentIntentId = `pi_chaos_${randomBytes(8).toString('hex')}`;
        const cents = 500 + randomInt(9_500);
        payments.set(paymentIntentId, cents);
        for (const e of paymentEvents(organizationId, paymentIntentId, cents)) for (let c = 0; c < COPIES; c++) deliveries.push(e);
      }
      shuffle(deliveries);
      log(`sending ${deliveries.length} webhooks`);
      const deliver = async (e: object) => {
        const payload = JSON.stringify(e);
        const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret: CHAOS_WEBHOOK_SECRET });
        let status = 0;
        try {
          const res = await fetch(`${stack.baseUrl}/webhooks/stripe`, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': signature }, body: payload });
          await res.arrayBuffer();
          status = res.status;
        } catch {
          // Counted as status 0.
        }
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      };
      let next = 0;
      await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
        while (next < deliveries.length) await deliver(deliveries[next++]!);
      }));
    },
    async check({ prisma }) {
      const entries = await prisma.ledgerEntry.findMany({ where: { organizationId }, select: { type: true, sourceId: true, amountMicros: true } });
      const account = await prisma.billingAccount.findUniqueOrThrow({ where: { organizationId } });
      const ledgerSum = entries.reduce((sum, e) => sum + e.amountMicros, 0n);
      const credits = (pi: string) => entries.filter((e) => e.type === 'PURCHASE' && e.sourceId === pi).length;
      const once = [...payments.keys()].filter((pi) => credits(pi) === 1).length;
      const missing = [...payments.keys()].filter((pi) => credits(pi) === 0).length;
      const expected = [...payments.values()].reduce((sum, cents) => sum + BigInt(cents) * 10_000n, 0n);
      const pass = once === payments.size && entries.length === payments.size && account.balanceMicros === ledgerSum && ledgerSum === expected;
      const answers = [...statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${n}× ${s}`).join(', ');
      return {
        pass,
        summary: `answers ${answers}; ${payments.size} payments: ${once} credited once, ${missing} not credited, ${entries.length} ledger entries; balance ${account.balanceMicros} µ$ ${account.balanceMicros === ledgerSum ? '=' : '≠'} Σ ledger ${ledgerSum} µ$ (paid ${expected} µ$)`,
      };
    },
  };
}
