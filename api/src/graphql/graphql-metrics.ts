import { Counter, Gauge, type Registry } from 'prom-client';

/** GraphQL's Prometheus metrics (no per-tenant labels). */
export function createGraphQLMetrics(registry: Registry) {
  return {
    operations: new Counter({
      name: 'cic_graphql_operations_total', help: 'GraphQL operations executed, by type and outcome (ok, error).',
      labelNames: ['type', 'outcome'] as const, registers: [registry],
    }),
    wsConnections: new Gauge({ name: 'cic_graphql_ws_connections', help: 'Open graphql-ws connections.', registers: [registry] }),
    activeSubscriptions: new Gauge({ name: 'cic_graphql_subscriptions_active', help: 'Subscriptions being served (graphql-ws and SSE).', registers: [registry] }),
    laggingSubscribers: new Counter({
      name: 'cic_graphql_subscribers_dropped_total', help: 'Subscriptions ended because the subscriber fell too many events behind.', registers: [registry],
    }),
    invitations: new Counter({
      name: 'cic_invitations_total', help: 'Invitation events: created, resent, accepted, declined, canceled.',
      labelNames: ['event'] as const, registers: [registry],
    }),
    subscriptionsRefused: new Counter({
      name: 'cic_graphql_subscriptions_refused_total', help: 'Subscriptions refused because a cap was reached (per socket, key/user or organization).',
      labelNames: ['limit'] as const, registers: [registry],
    }),
    rateLimited: new Counter({
      name: 'cic_graphql_rate_limited_total', help: 'Operations refused by the cost budget: budget spent, or costing more than a whole budget (too_costly).',
      labelNames: ['reason'] as const, registers: [registry],
    }),
    costPoints: new Counter({ name: 'cic_graphql_cost_points_total', help: 'Cost points spent by admitted operations.', registers: [registry] }),
    closedForAuth: new Counter({
      name: 'cic_graphql_ws_auth_closes_total', help: 'WebSockets closed because the key was revoked or the session expired.',
      labelNames: ['reason'] as const, registers: [registry],
    }),
  };
}

export type GraphQLMetrics = ReturnType<typeof createGraphQLMetrics>;
