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

/** Used only outside production, so `npm start` works without configuring a secret (docs/graphql.md). */
export const DEV_SESSION_TOKEN_SECRET = 'cic-dev-session-token-secret-not-for-production';

/** SESSION_TOKEN_SECRET, or the dev value outside production; a missing secret in production stops start-up. */
export function sessionSecretOf(config: ApiConfig): string {
  if (config.SESSION_TOKEN_SECRET) return config.SESSION_TOKEN_SECRET;
  if (config.NODE_ENV === 'production') throw new ConfigError('SESSION_TOKEN_SECRET: required in production (at least 32 characters, the same value as the dashboard)');
  return DEV_SESSION_TOKEN_SECRET;
}
