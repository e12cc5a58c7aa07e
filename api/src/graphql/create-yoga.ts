import { EnvelopArmor } from '@escape.tech/graphql-armor';
import { NoSchemaIntrospectionCustomRule } from './graphql-js.ts';
import { createGraphQLError, createYoga, type Plugin } from 'graphql-yoga';
import { AppError, ERROR_CODES } from '@cic/core/errors';
import type { Logger } from '@cic/core/logger';
import { authenticateViewer } from '@cic/core/auth/authenticate-viewer';
import type { KeyAuthenticator } from '@cic/core/api-keys/key-authenticator';
import type { Viewer } from '@cic/core/auth/viewer';
import { MAX_PAGE_SIZE } from './builder.ts';
import type { GraphQLContext, GraphQLServices } from './context.ts';
import type { GraphQLLimits } from './graphql-settings.ts';
import { type GraphQLMetrics, useOperationMetrics } from './graphql-metrics.ts';
import { createMaskError } from './mask-error.ts';
import { schema } from './schema/index.ts';
import { useCsrfPrevention } from './use-csrf-prevention.ts';
import { usePaginationLimit } from './use-pagination-limit.ts';
import { type PersistedOperationsPolicy, usePersistedOperations } from './persisted-operations.ts';
import { useSharedSubscriptionExecution } from './shared-subscription-execution.ts';
import { useRequestId } from './use-request-id.ts';

/** What the HTTP route (or the WebSocket server) hands Yoga for each operation. */
export interface GraphQLServerContext {
  requestId: string;
  log: Logger;
  /** Set by the WebSocket server, which authenticated the connection in connection_init. */
  wsViewer?: Viewer;
}

export interface CreateYogaOptions {
  services: GraphQLServices;
  keys: KeyAuthenticator;
  sessionSecret: string;
  limits: GraphQLLimits;
  production: boolean;
  log: Logger;
  metrics: GraphQLMetrics;
  /** Which operations run (attach-graphql-ws.ts applies the same policy to WebSocket subscribes). */
  persisted: PersistedOperationsPolicy;
}

const useDisableIntrospection = (): Plugin => ({
  onValidate({ addValidationRule }) {
    addValidationRule(NoSchemaIntrospectionCustomRule);
  },
});

/** The Yoga instance: schema, authentication into the context, hardening and error masking. */
export function createGraphQLYoga({ services, keys, sessionSecret, limits, production, log, metrics, persisted }: CreateYogaOptions) {
  const armor = new EnvelopArmor({
    maxDepth: { n: limits.maxDepth },
    maxAliases: { n: limits.maxAliases },
    maxDirectives: { n: limits.maxDirectives },
    maxTokens: { n: limits.maxTokens },
    costLimit: { maxCost: limits.maxCost },
    blockFieldSuggestion: { enabled: production },
  });
  // Credentials are checked before execution: a bad token is an HTTP 401/403 with the usual error shape.
  const authFailure = (err: unknown) =>
    err instanceof AppError
      ? createGraphQLError(err.message, { extensions: { code: ERROR_CODES[err.code].graphql, http: { status: err.status } } })
      : err;
  return createYoga<GraphQLServerContext, GraphQLContext>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    graphiql: production ? false : { title: 'CIC GraphQL', subscriptionsProtocol: 'WS' },
    batching: { limit: limits.maxBatch },
    maskedErrors: { maskError: createMaskError(log) },
    logging: log,
    plugins: [
      useOperationMetrics(metrics),
      ...armor.protect().plugins,
      ...(production ? [useDisableIntrospection()] : []),
      useCsrfPrevention(),
      usePaginationLimit({ max: MAX_PAGE_SIZE }),
      usePersistedOperations(persisted),
      useRequestId(),
      useSharedSubscriptionExecution(),
    ],
    context: async ({ request, requestId, log: requestLog, wsViewer }): Promise<GraphQLContext> => {
      let viewer = wsViewer;
      if (!viewer) {
        try {
          viewer = await authenticateViewer({
            prisma: services.prisma, keys, sessionSecret,
            authorization: request.headers.get('authorization'), organizationId: request.headers.get('x-organization-id'),
          });
        } catch (err) {
          throw authFailure(err);
        }
      }
      return { ...services, viewer, requestId, log: requestLog };
    },
  });
}

export type GraphQLYoga = ReturnType<typeof createGraphQLYoga>;
