import { createPrismaClient, type PrismaClient } from '@cic/db';
import type { Redis } from 'ioredis';
import { platformRateLimitsOf, platformSettingsDefaultsOf, type ApiConfig } from './config.ts';
import { registerHealthRoutes } from './http/health-routes.ts';
import { createHttpMetrics } from './http/metrics.ts';
import { Router } from './http/router.ts';
import { createHttpServer } from './http/server.ts';
import { buildGraphQL } from './graphql/build-graphql.ts';
import { registerStripeWebhookRoute } from './http/stripe-webhook-route.ts';
import { registerInternalAuthRoutes } from './internal-auth/register-internal-auth-routes.ts';
import { createSignInThrottle } from './internal-auth/sign-in-throttle.ts';
import { buildInference } from './inference/build-inference.ts';
import type { CreditGate } from '@cic/core/billing/credit-gate';
import { createRedis } from '@cic/core/lib/redis';
import { TopicBus } from '@cic/core/lib/topic-bus';
import type { Logger } from '@cic/core/logger';
import { KeyAuthenticator } from '@cic/core/api-keys/key-authenticator';
import { buildBilling } from '@cic/core/billing/build-billing';

export interface BuildApiOptions {
  config: ApiConfig;
  log: Logger;
  /**
   * Refuses inference for organizations without credits (402).
   * @defaultValue billing's cached balance gate (allow-all when BILLING_ENFORCE_CREDITS=false)
   */
  creditGate?: CreditGate;
}

/**
 * Wires the API server: one HTTP server hosting health, metrics and (as features land) GraphQL at
 * /graphql, the OpenAI-compatible routes under /v1 and Stripe webhooks. Returns `{ start, stop }`.
 */
export function buildApi({ config, log, creditGate }: BuildApiOptions) {
  const prisma: PrismaClient = createPrismaClient({ databaseUrl: config.DATABASE_URL, poolSize: config.DATABASE_POOL_SIZE });
  const redis: Redis = createRedis(config.REDIS_URL, log);
  const metrics = createHttpMetrics();
  // Every factory gets these two: the command connection and the process's one pub/sub subscriber.
  const bus = new TopicBus({ redis, prefix: config.REDIS_CHANNEL_PREFIX, log, registry: metrics.registry });
  const router = new Router();
  let shuttingDown = false;

  const platformDefaults = platformSettingsDefaultsOf(config);
  registerHealthRoutes(router, { prisma, redis, registry: metrics.registry, isShuttingDown: () => shuttingDown });
  registerInternalAuthRoutes(router, {
    prisma, registry: metrics.registry, secret: config.INTERNAL_AUTH_SECRET,
    throttle: createSignInThrottle({
      redis, prefix: config.INFERENCE_REDIS_PREFIX, perEmail: config.SIGNIN_LINKS_PER_EMAIL, perClient: config.SIGNIN_LINKS_PER_CLIENT, windowSeconds: config.SIGNIN_LINK_WINDOW_SECONDS,
    }),
    platformDefaults,
  });
  const billing = buildBilling({ settings: config, prisma, bus, registry: metrics.registry, log });
  registerStripeWebhookRoute(router, { prisma, bus, metrics: billing.metrics, webhookSecret: billing.webhookSecret });
  const keys = new KeyAuthenticator({
    prisma, bus, log, platformLimits: platformRateLimitsOf(config), maxStaleMs: config.API_KEY_MAX_STALE_SECONDS * 1000, registry: metrics.registry,
  });
  const inference = buildInference({
    settings: config, prisma, redis, bus, keys, registry: metrics.registry, log,
    creditGate: creditGate ?? billing.creditGate,
  });
  inference.register(router);
  const graphql = buildGraphQL({ config, prisma, redis, bus, keys, registry: metrics.registry, log, billing });
  graphql.register(router);

  const http = createHttpServer({
    router, metrics, log, trustProxy: config.TRUST_PROXY,
    limits: { headersTimeoutMs: config.HTTP_HEADERS_TIMEOUT_MS, bodyTimeoutMs: config.HTTP_BODY_TIMEOUT_MS, maxConnectionsPerClient: config.HTTP_MAX_CONNECTIONS_PER_CLIENT },
  });
  graphql.attach(http.server);

  return {
    prisma,
    redis,
    bus,
    metrics,
    inference,
    graphql,
    billing,
    async start(): Promise<{ url: string; port: number }> {
      await keys.start();
      await billing.start();
      await inference.start();
      graphql.start();
      // Listen once the subscriptions are in place (or Redis is known to be away: caches then re-check sooner).
      await bus.settled();
      const addr = await http.listen(config.PORT, config.HOST);
      log.info({ url: addr.url }, 'api listening');
      return addr;
    },
    async stop(): Promise<void> {
      shuttingDown = true;
      await graphql.stop();
      await http.close(config.SHUTDOWN_GRACE_SECONDS * 1000, config.SHUTDOWN_ANNOUNCE_MS);
      await inference.stop();
      await keys.stop();
      await billing.stop();
      await bus.close();
      await Promise.allSettled([prisma.$disconnect(), redis.quit()]);
      log.info('api stopped');
    },
  };
}

export type Api = ReturnType<typeof buildApi>;
