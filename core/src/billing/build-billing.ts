import type { PrismaClient } from '@cic/db';
import type { Registry } from 'prom-client';
import { allowAllCreditGate, type CreditGate } from './credit-gate.ts';
import type { TopicBus } from '../lib/topic-bus.ts';
import type { Logger } from '../logger.ts';
import { BalanceCache } from './balance-cache.ts';
import { createBillingMetrics } from './billing-metrics.ts';
import { createStripeClient } from './stripe-client.ts';

/** Billing's slice of the API configuration (docs/billing.md#configuration). */
export interface BillingSettings {
  STRIPE_SECRET_KEY?: string | undefined;
  STRIPE_WEBHOOK_SECRET?: string | undefined;
  STRIPE_API_BASE?: string | undefined;
  CHECKOUT_MIN_CENTS: number;
  CHECKOUT_MAX_CENTS: number;
  PUBLIC_WEB_URL: string;
  LOW_BALANCE_MICROS: bigint;
  BILLING_ENFORCE_CREDITS: boolean;
}

export interface BuildBillingOptions {
  settings: BillingSettings;
  prisma: PrismaClient;
  /** The process's topic bus (the balance cache follows `billingChanged` on it). */
  bus: TopicBus;
  registry: Registry;
  log: Logger;
}

/**
 * Billing's runtime pieces: the Stripe client (null in manual mode), the credit gate for /v1 and the
 * metrics; the API mounts the Stripe webhook route with them. GraphQL resolvers call the services in this folder with `stripe` and `checkout`.
 */
export function buildBilling({ settings, prisma, bus, registry, log }: BuildBillingOptions) {
  const stripe = createStripeClient({ secretKey: settings.STRIPE_SECRET_KEY, apiBase: settings.STRIPE_API_BASE });
  const metrics = createBillingMetrics({ registry, prisma });
  const cache = settings.BILLING_ENFORCE_CREDITS ? new BalanceCache({ prisma, bus, log, metrics }) : null;
  const creditGate: CreditGate = cache ?? allowAllCreditGate;
  const checkout = {
    minCents: settings.CHECKOUT_MIN_CENTS,
    maxCents: settings.CHECKOUT_MAX_CENTS,
    publicWebUrl: settings.PUBLIC_WEB_URL,
    lowBalanceMicros: settings.LOW_BALANCE_MICROS,
  };
  if (!stripe) log.info('billing in manual mode: STRIPE_SECRET_KEY is unset, admins grant credits');

  return {
    stripe,
    metrics,
    creditGate,
    checkout,
    webhookSecret: settings.STRIPE_WEBHOOK_SECRET,
    async start(): Promise<void> {
      await cache?.start();
    },
    async stop(): Promise<void> {
      await cache?.stop();
    },
  };
}

export type Billing = ReturnType<typeof buildBilling>;
