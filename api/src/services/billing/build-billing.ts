import type { PrismaClient } from '@cic/db';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import type { ApiConfig } from '../../config.ts';
import { allowAllCreditGate, type CreditGate } from '../../inference/credit-gate.ts';
import type { Router } from '../../http/router.ts';
import { registerStripeWebhookRoute, type StripeWebhookRouteOptions } from '../../http/stripe-webhook-route.ts';
import type { Logger } from '../../logger.ts';
import { BalanceCache } from './balance-cache.ts';
import { createBillingMetrics } from './billing-metrics.ts';
import { createStripeClient } from './stripe-client.ts';

export type BillingSettings = Pick<
  ApiConfig,
  'STRIPE_SECRET_KEY' | 'STRIPE_WEBHOOK_SECRET' | 'STRIPE_API_BASE' | 'CHECKOUT_MIN_CENTS' | 'CHECKOUT_MAX_CENTS' | 'PUBLIC_WEB_URL' | 'LOW_BALANCE_MICROS' | 'BILLING_ENFORCE_CREDITS'
>;

export interface BuildBillingOptions {
  settings: BillingSettings;
  prisma: PrismaClient;
  redis: Redis;
  /** Opens a connection of its own (the balance cache puts it in subscriber mode). */
  connectRedis: () => Redis;
  registry: Registry;
  log: Logger;
  /** Test-only hook passed to the webhook route. */
  beforeCommit?: StripeWebhookRouteOptions['beforeCommit'];
}

/**
 * Billing's runtime pieces: the Stripe client (null in manual mode), the credit gate for /v1, the webhook
 * route and the metrics. GraphQL resolvers call the services in this folder with `stripe` and `checkout`.
 */
export function buildBilling({ settings, prisma, redis, connectRedis, registry, log, beforeCommit }: BuildBillingOptions) {
  const stripe = createStripeClient({ secretKey: settings.STRIPE_SECRET_KEY, apiBase: settings.STRIPE_API_BASE });
  const metrics = createBillingMetrics({ registry, prisma });
  const cache = settings.BILLING_ENFORCE_CREDITS ? new BalanceCache({ prisma, subscriber: connectRedis(), log, metrics }) : null;
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
    register(router: Router): void {
      registerStripeWebhookRoute(router, { prisma, redis, metrics, webhookSecret: settings.STRIPE_WEBHOOK_SECRET, beforeCommit });
    },
    async start(): Promise<void> {
      await cache?.start();
    },
    async stop(): Promise<void> {
      await cache?.stop();
    },
  };
}

export type Billing = ReturnType<typeof buildBilling>;
