import type { Server } from 'node:http';
import type { PrismaClient } from '@cic/db';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { platformRateLimitsOf, platformSettingsDefaultsOf, type ApiConfig } from '../config.ts';
import type { Router } from '../http/router.ts';
import { duplicateRedis } from '@cic/core/lib/redis';
import type { TopicBus, Unsubscribe } from '@cic/core/lib/topic-bus';
import type { Logger } from '@cic/core/logger';
import type { KeyAuthenticator } from '@cic/core/api-keys/key-authenticator';
import { NODE_LIFECYCLE_QUEUE } from '@cic/core/jobs/job-catalog';
import { nodeSecretBoxOf } from '@cic/core/nodes/node-secret';
import { attachGraphQLWs } from './attach-graphql-ws.ts';
import type { GraphQLServices } from './context.ts';
import { createGraphQLYoga } from './create-yoga.ts';
import { createGraphQLMetrics } from './graphql-metrics.ts';
import { CostBudget } from './cost-budget.ts';
import { graphqlExposureOf, graphqlLimitsOf, graphqlQuotasOf, sessionSecretOf } from './graphql-settings.ts';
import { LiveAuthorization } from './live-authorization.ts';
import { LiveEvents } from './live-events.ts';
import { NodeSnapshots } from './node-snapshots.ts';
import { loadPersistedOperations } from './persisted-operations.ts';
import { SubscriptionLimits } from './subscription-limits.ts';

export interface BuildGraphQLOptions {
  config: ApiConfig;
  prisma: PrismaClient;
  /** The API's command connection (the node queue gets a duplicate). */
  redis: Redis;
  /** The process's topic bus: subscriptions' events, `apiKeyChanged` for live re-checks, and publishing. */
  bus: TopicBus;
  keys: KeyAuthenticator;
  registry: Registry;
  log: Logger;
  /** Billing's runtime for its GraphQL fields (schema/billing-mutations.ts); absent = those fields answer SERVICE_UNAVAILABLE. */
  billing?: GraphQLServices['billing'];
}

/**
 * GraphQL at /graphql: Yoga (HTTP and SSE) on the router, graphql-ws on the server's upgrade event,
 * subscriptions fed by the topic bus so an event published on any instance reaches every subscriber.
 */
export function buildGraphQL({ config, prisma, redis, bus, keys, registry, log, billing }: BuildGraphQLOptions) {
  const sessionSecret = sessionSecretOf(config);
  const gqlLog = log.child({ component: 'graphql' });
  const metrics = createGraphQLMetrics(registry);
  const events = new LiveEvents(bus, { onLagging: () => metrics.laggingSubscribers.inc() });
  const queueConnection = duplicateRedis(redis, gqlLog, { maxRetriesPerRequest: null });
  const nodeQueue = new Queue(NODE_LIFECYCLE_QUEUE, { connection: queueConnection, prefix: config.BULLMQ_PREFIX });
  // duplicateRedis already logs connection trouble once per outage; without a listener BullMQ would print every retry.
  nodeQueue.on('error', () => undefined);
  const live = new LiveAuthorization({ prisma, log: gqlLog });
  const services: GraphQLServices = {
    prisma, redis, bus, events, nodeQueue, live, nodeSnapshots: new NodeSnapshots(prisma), usageEventsPerSecond: config.GRAPHQL_USAGE_EVENTS_PER_SECOND, rateLimits: platformRateLimitsOf(config), billing,
    invitationValidDays: config.INVITATION_VALID_DAYS, invitationEvents: metrics.invitations, platformDefaults: platformSettingsDefaultsOf(config),
    nodeLaunch: { nodeSecrets: nodeSecretBoxOf(config), urlPolicy: { allowLinkLocal: config.NODE_ALLOW_LINK_LOCAL_URLS } },
  };
  const limits = graphqlLimitsOf(config);
  const persisted = { store: loadPersistedOperations(), allowArbitraryOperations: limits.allowArbitraryOperations };
  const exposure = graphqlExposureOf(config);
  const quotas = graphqlQuotasOf(config);
  const budget = new CostBudget({ redis, prefix: quotas.redisPrefix, pointsPerMinute: quotas.pointsPerMinute, log: gqlLog });
  const subscriptionLimits = new SubscriptionLimits({
    redis, prefix: quotas.redisPrefix, maxPerViewer: quotas.maxSubscriptionsPerViewer, maxPerOrganization: quotas.maxSubscriptionsPerOrganization,
    log: gqlLog, onRefused: (limit) => metrics.subscriptionsRefused.inc({ limit }),
  });
  const yoga = createGraphQLYoga({
    services, keys, sessionSecret, limits, exposure, budget, subscriptionLimits, log: gqlLog, metrics, persisted,
  });
  let ws: ReturnType<typeof attachGraphQLWs> | null = null;
  let unsubscribe: Unsubscribe[] = [];

  // Every instance learns of revocations, so its sockets made with the key close at once; after a pub/sub
  // gap the keys of live streams are re-checked, since their revocation may have been missed.
  function followKeyChanges(): void {
    unsubscribe = [
      bus.subscribe('apiKeyChanged', ({ keyId }) => {
        live.keyChanged(keyId).catch((err: unknown) => gqlLog.warn({ err, keyId }, 'could not re-check a changed key'));
      }),
      bus.onResync(() => {
        live.resync().catch((err: unknown) => gqlLog.warn({ err }, 'could not re-check the keys of live streams'));
      }),
    ];
  }

  return {
    yoga,
    register(router: Router): void {
      // Calling the adapter (not handleNodeRequestAndResponse, which only returns a Response) writes the answer.
      router.on('*', '/graphql', (req, res, ctx) => yoga(req, res, { requestId: ctx.requestId, log: ctx.log }));
    },
    /** Serves graphql-ws on the API's HTTP server. */
    attach(server: Server): void {
      ws = attachGraphQLWs({
        server, yoga, services, keys, sessionSecret, metrics, persisted, log: gqlLog,
        maxPayloadBytes: exposure.maxWsMessageBytes, maxSubscriptionsPerSocket: quotas.maxSubscriptionsPerSocket,
      });
    },
    start(): void {
      subscriptionLimits.start();
      followKeyChanges();
    },
    async stop(): Promise<void> {
      live.shutdown();
      await ws?.close();
      await subscriptionLimits.stop();
      for (const off of unsubscribe) off();
      await nodeQueue.close();
      queueConnection.disconnect();
    },
  };
}
