import { getOperationAST } from './graphql-js.ts';
import type { Plugin } from 'graphql-yoga';
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
    closedForAuth: new Counter({
      name: 'cic_graphql_ws_auth_closes_total', help: 'WebSockets closed because the key was revoked or the session expired.',
      labelNames: ['reason'] as const, registers: [registry],
    }),
  };
}

export type GraphQLMetrics = ReturnType<typeof createGraphQLMetrics>;

/** Counts queries and mutations by outcome, and subscriptions as they start. */
export function useOperationMetrics(metrics: GraphQLMetrics): Plugin {
  return {
    onExecute({ args }) {
      const op = getOperationAST(args.document, args.operationName);
      const type = op?.operation ?? 'unknown';
      return {
        onExecuteDone({ result }) {
          if (Symbol.asyncIterator in result) return;
          metrics.operations.inc({ type, outcome: result.errors?.length ? 'error' : 'ok' });
        },
      };
    },
    onSubscribe() {
      metrics.operations.inc({ type: 'subscription', outcome: 'ok' });
      metrics.activeSubscriptions.inc();
      return {
        onSubscribeResult() {
          return { onEnd: () => metrics.activeSubscriptions.dec() };
        },
        onSubscribeError: () => metrics.activeSubscriptions.dec(),
      };
    },
  };
}
