import type { ApiConfig } from '../config.ts';
import { ConfigError } from '@cic/core/lib/env';

/** The query limits, explicit so docs/graphql.md and the tests can state them. */
export interface GraphQLLimits {
  maxDepth: number;
  maxAliases: number;
  maxDirectives: number;
  maxTokens: number;
  maxCost: number;
  /** Operations per batched HTTP request. */
  maxBatch: number;
  allowArbitraryOperations: boolean;
}

export const graphqlLimitsOf = (config: ApiConfig): GraphQLLimits => ({
  maxDepth: config.GRAPHQL_MAX_DEPTH,
  maxAliases: config.GRAPHQL_MAX_ALIASES,
  maxDirectives: config.GRAPHQL_MAX_DIRECTIVES,
  maxTokens: config.GRAPHQL_MAX_TOKENS,
  maxCost: config.GRAPHQL_MAX_COST,
  maxBatch: config.GRAPHQL_MAX_BATCH,
  allowArbitraryOperations: config.GRAPHQL_ALLOW_ARBITRARY_OPERATIONS,
});

/** What the endpoint exposes beyond executing operations, and to whom (docs/graphql.md#configuration). */
export interface GraphQLExposure {
  /** Largest HTTP/SSE body, in bytes. */
  maxBodyBytes: number;
  /** Largest graphql-ws message, in bytes. */
  maxWsMessageBytes: number;
  /** Introspection and "Did you mean" suggestions (every caller is authenticated before either runs). */
  introspection: boolean;
  /** GraphiQL's page at GET /graphql, rendered from a local bundle. */
  graphiql: boolean;
  /** Browser origins that may call cross-origin (with credentials); others get no CORS headers. */
  corsOrigins: string[];
}

const flag = (value: string | undefined, fallback: boolean): boolean => (value === undefined ? fallback : value === 'true' || value === '1');

/** Origins as browsers send them (`scheme://host[:port]`); an entry that is not a URL stops start-up. */
function originsOf(list: string): string[] {
  return list.split(',').map((s) => s.trim()).filter(Boolean).map((entry) => {
    try {
      return new URL(entry).origin;
    } catch {
      throw new ConfigError(`GRAPHQL_CORS_ORIGINS=${JSON.stringify(list)}: "${entry}" is not an origin such as https://dashboard.example.com`);
    }
  });
}

export const graphqlExposureOf = (config: ApiConfig): GraphQLExposure => ({
  maxBodyBytes: config.GRAPHQL_MAX_BODY_BYTES,
  maxWsMessageBytes: config.GRAPHQL_MAX_WS_MESSAGE_BYTES,
  // Development keeps the schema explorable; production shows it only when asked to.
  introspection: flag(config.GRAPHQL_INTROSPECTION, config.NODE_ENV !== 'production'),
  graphiql: flag(config.GRAPHQL_GRAPHIQL, config.NODE_ENV !== 'production'),
  corsOrigins: originsOf(config.GRAPHQL_CORS_ORIGINS ?? config.PUBLIC_WEB_URL),
});

/** How much each key or user may open and spend (subscription caps and the operation cost budget). */
export interface GraphQLQuotas {
  maxSubscriptionsPerSocket: number;
  maxSubscriptionsPerViewer: number;
  maxSubscriptionsPerOrganization: number;
  pointsPerMinute: number;
  /** Prefix of the Redis keys that count them across API instances. */
  redisPrefix: string;
}

export const graphqlQuotasOf = (config: ApiConfig): GraphQLQuotas => ({
  maxSubscriptionsPerSocket: config.GRAPHQL_MAX_SUBSCRIPTIONS_PER_SOCKET,
  maxSubscriptionsPerViewer: config.GRAPHQL_MAX_SUBSCRIPTIONS_PER_VIEWER,
  maxSubscriptionsPerOrganization: config.GRAPHQL_MAX_SUBSCRIPTIONS_PER_ORGANIZATION,
  pointsPerMinute: config.GRAPHQL_RATE_LIMIT_POINTS_PER_MINUTE,
  redisPrefix: config.GRAPHQL_REDIS_PREFIX,
});

/** Used only outside production, so `npm start` works without configuring a secret (docs/graphql.md). */
export const DEV_SESSION_TOKEN_SECRET = 'cic-dev-session-token-secret-not-for-production';

/** SESSION_TOKEN_SECRET, or the dev value outside production; a missing secret in production stops start-up. */
export function sessionSecretOf(config: ApiConfig): string {
  if (config.SESSION_TOKEN_SECRET) return config.SESSION_TOKEN_SECRET;
  if (config.NODE_ENV === 'production') throw new ConfigError('SESSION_TOKEN_SECRET: required in production (at least 32 characters, the same value as the dashboard)');
  return DEV_SESSION_TOKEN_SECRET;
}
