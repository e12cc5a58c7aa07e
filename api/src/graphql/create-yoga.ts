import { EnvelopArmor } from '@escape.tech/graphql-armor';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { createYoga, type CORSOptions } from 'graphql-yoga';
import type { Logger } from '@cic/core/logger';
import { authenticateViewer } from '@cic/core/auth/authenticate-viewer';
import type { KeyAuthenticator } from '@cic/core/api-keys/key-authenticator';
import type { Viewer } from '@cic/core/auth/viewer';
import { MAX_PAGE_SIZE } from './builder.ts';
import type { GraphQLContext, GraphQLServices } from './context.ts';
import type { CostBudget } from './cost-budget.ts';
import type { GraphQLExposure, GraphQLLimits } from './graphql-settings.ts';
import type { GraphQLMetrics } from './graphql-metrics.ts';
import { createMaskError } from './mask-error.ts';
import type { PersistedOperationsPolicy } from './persisted-operations.ts';
import { schema } from './schema/index.ts';
import type { SubscriptionLimits } from './subscription-limits.ts';
import { useAuthentication } from './use-authentication.ts';
import { useCostRateLimit } from './use-cost-rate-limit.ts';
import { useDisableIntrospection } from './use-disable-introspection.ts';
import { useOperationMetrics } from './use-operation-metrics.ts';
import { usePaginationLimit } from './use-pagination-limit.ts';
import { usePersistedOperations } from './use-persisted-operations.ts';
import { useRejectNulCharacters } from './use-reject-nul-characters.ts';
import { useRequestId } from './use-request-id.ts';
import { useSharedSubscriptionExecution } from './use-shared-subscription-execution.ts';
import { useSubscriptionLimits } from './use-subscription-limits.ts';

/** What the HTTP route (or the WebSocket server) hands Yoga for each operation. */
export interface GraphQLServerContext {
  requestId: string;
  log: Logger;
  /** The authenticated caller: set by use-authentication.ts (HTTP, SSE) or the WebSocket server (connection_init). */
  viewer?: Viewer;
}

export interface CreateYogaOptions {
  services: GraphQLServices;
  keys: KeyAuthenticator;
  sessionSecret: string;
  limits: GraphQLLimits;
  exposure: GraphQLExposure;
  /** Per key/user cost budget (use-cost-rate-limit.ts). */
  budget: CostBudget;
  /** Per key/user and per organization subscription caps. */
  subscriptionLimits: SubscriptionLimits;
  log: Logger;
  metrics: GraphQLMetrics;
  /** Which operations run (attach-graphql-ws.ts applies the same policy to WebSocket subscribes). */
  persisted: PersistedOperationsPolicy;
}

/** Headers a browser page on an allowed origin may send, and read back. */
const CORS_REQUEST_HEADERS = ['authorization', 'content-type', 'accept', 'x-organization-id', 'x-request-id', 'x-graphql-client'];
const CORS_EXPOSED_HEADERS = ['x-request-id', 'retry-after'];

/** CORS for the configured origins only; any other origin gets no CORS header, so its browser refuses. */
function corsFor(origins: readonly string[]) {
  return (request: Request): CORSOptions => {
    const origin = request.headers.get('origin');
    if (!origin || !origins.includes(origin)) return false;
    return { origin: [origin], credentials: true, methods: ['GET', 'POST'], allowedHeaders: CORS_REQUEST_HEADERS, exposedHeaders: CORS_EXPOSED_HEADERS, maxAge: 600 };
  };
}

/**
 * Yoga's logger. Yoga reports at error level every error maskError replaced, so every refusal too
 * (FORBIDDEN, NOT_FOUND, a subscription ended by an expired token or a shutdown). maskError itself logs
 * the unexpected ones at error level, so Yoga's reports of errors are debug here.
 */
function yogaLogging(log: Logger) {
  const at = (level: 'debug' | 'info' | 'warn') => (...args: unknown[]) => {
    const [first, ...rest] = args;
    if (first instanceof Error) log[level]({ err: first }, first.message);
    else log[level](rest.length ? { args: rest } : {}, String(first));
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('debug') };
}

/** The Yoga instance: schema, authentication before the body is read, hardening, quotas and error masking. */
export function createGraphQLYoga({ services, keys, sessionSecret, limits, exposure, budget, subscriptionLimits, log, metrics, persisted }: CreateYogaOptions) {
  const armor = new EnvelopArmor({
    maxDepth: { n: limits.maxDepth },
    maxAliases: { n: limits.maxAliases },
    maxDirectives: { n: limits.maxDirectives },
    maxTokens: { n: limits.maxTokens },
    costLimit: { maxCost: limits.maxCost },
    // Suggestions reveal the schema as introspection does: on only when introspection is.
    blockFieldSuggestion: { enabled: !exposure.introspection },
  });
  return createYoga<GraphQLServerContext, GraphQLContext>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    cors: corsFor(exposure.corsOrigins),
    // The page only: every operation it sends needs a credential (its headers tab) like any other.
    graphiql: exposure.graphiql ? { title: 'CIC GraphQL', subscriptionsProtocol: 'WS' } : false,
    // Yoga's default page loads GraphiQL from a CDN; this bundle is served from our own package, loaded only when enabled.
    renderGraphiQL: async (options) => (await import('@graphql-yoga/render-graphiql')).renderGraphiQL(options),
    maxRequestBodySize: exposure.maxBodyBytes,
    batching: { limit: limits.maxBatch },
    maskedErrors: { maskError: createMaskError(log, { maxBodyBytes: exposure.maxBodyBytes }) },
    logging: yogaLogging(log),
    plugins: [
      useAuthentication({
        authenticate: (request) => authenticateViewer({
          prisma: services.prisma, keys, sessionSecret,
          authorization: request.headers.get('authorization'), organizationId: request.headers.get('x-organization-id'),
        }),
      }),
      useOperationMetrics(metrics),
      ...armor.protect().plugins,
      ...(exposure.introspection ? [] : [useDisableIntrospection()]),
      // Our JSON clients never trip it; a cross-site form or GET needs the header, which forces a preflight.
      useCSRFPrevention({ requestHeaders: ['x-graphql-client', 'x-graphql-yoga-csrf', 'graphql-client-name'] }),
      usePaginationLimit({ max: MAX_PAGE_SIZE }),
      useRejectNulCharacters(),
      usePersistedOperations(persisted),
      useRequestId(),
      useCostRateLimit({ budget, metrics }),
      useSubscriptionLimits(subscriptionLimits),
      useSharedSubscriptionExecution(),
    ],
    context: ({ viewer, requestId, log: requestLog }): GraphQLContext => {
      // use-authentication.ts (or connection_init) ran first; an unauthenticated request never gets here.
      if (!viewer) throw new Error('GraphQL context built without an authenticated viewer');
      return { ...services, viewer, requestId, log: requestLog };
    },
  });
}

export type GraphQLYoga = ReturnType<typeof createGraphQLYoga>;
