import type { PrismaClient } from '@cic/db';
import { Counter, Gauge, type Registry } from 'prom-client';
import { STRIPE_EVENT_PAYLOADS } from './stripe-events/stripe-event-schemas.ts';

/** Event types with their own label value (the handled ones); every other type is counted as `other` to bound cardinality. */
export const eventTypeLabel = (type: unknown): string => (typeof type === 'string' && Object.hasOwn(STRIPE_EVENT_PAYLOADS, type) ? type : 'other');

/** Billing's Prometheus metrics (no per-organization labels). */
export function createBillingMetrics({ registry, prisma }: { registry: Registry; prisma: PrismaClient }) {
  return {
    webhooks: new Counter({
      name: 'cic_stripe_webhooks_total',
      help: 'Stripe webhook deliveries by event type and outcome (applied, duplicate, ignored, unmatched, rejected, deferred, invalid_signature, error).',
      labelNames: ['type', 'outcome'] as const,
      registers: [registry],
    }),
    gateRefusals: new Counter({
      name: 'cic_billing_gate_refusals_total',
      help: 'Inference requests refused by the credit gate, by reason (no_credit, frozen).',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    lowBalanceOrgs: new Gauge({
      name: 'cic_billing_low_balance_orgs',
      help: 'Organizations whose balance is below their low-balance threshold (notified), read at scrape time.',
      registers: [registry],
      async collect() {
        // A database outage must not take /metrics down with it: keep the last value.
        const count = await prisma.billingAccount.count({ where: { lowBalanceNotifiedAt: { not: null } } }).catch(() => null);
        if (count !== null) this.set(count);
      },
    }),
  };
}

export type BillingMetrics = ReturnType<typeof createBillingMetrics>;
