import type { IncomingMessage, Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { CloseCode } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import type { DocumentNode, ExecutionArgs } from 'graphql';
import { GraphQLError } from './graphql-js.ts';
import { WebSocketServer, type WebSocket } from 'ws';
import { AppError, ERROR_CODES } from '@cic/core/errors';
import type { Logger } from '@cic/core/logger';
import type { KeyAuthenticator } from '@cic/core/api-keys/key-authenticator';
import { authenticateViewer } from '@cic/core/auth/authenticate-viewer';
import type { Viewer } from '@cic/core/auth/viewer';
import type { GraphQLServices } from './context.ts';
import type { GraphQLYoga } from './create-yoga.ts';
import type { GraphQLMetrics } from './graphql-metrics.ts';
import { type PersistedOperationsPolicy, resolveOperation } from './persisted-operations.ts';
import { subscriptionLimitError } from './subscription-limits.ts';

/**
 * Close codes clients see. An expired session token has its own code: graphql-ws clients treat 4401 as
 * final and never retry it, but a dashboard tab only has to reconnect with a fresh token (4419 is
 * retried like any code graphql-ws does not know).
 */
export const WS_CLOSE = { unauthorized: 4401, forbidden: 4403, sessionExpired: 4419 } as const;
const SESSION_CLOSE_LEAD_MS = 1_000;

interface ConnectionState {
  viewer: Viewer;
  requestId: string;
  expiry: NodeJS.Timeout | null;
}

interface Extra extends Record<PropertyKey, unknown> {
  socket: WebSocket;
  request: IncomingMessage;
  state?: ConnectionState;
}

export interface AttachGraphQLWsOptions {
  server: Server;
  yoga: GraphQLYoga;
  services: GraphQLServices;
  keys: KeyAuthenticator;
  sessionSecret: string;
  metrics: GraphQLMetrics;
  /** The same operations policy as HTTP (persisted ids, and whether other text may run). */
  persisted: PersistedOperationsPolicy;
  log: Logger;
  /**
   * Largest incoming WebSocket message, in bytes (GRAPHQL_MAX_WS_MESSAGE_BYTES); larger ones close the socket.
   * @defaultValue 65536
   */
  maxPayloadBytes?: number;
  /**
   * Operations in flight on one socket, subscriptions included (GRAPHQL_MAX_SUBSCRIPTIONS_PER_SOCKET);
   * the caps per key/user and organization are use-subscription-limits.ts's.
   * @defaultValue 25
   */
  maxSubscriptionsPerSocket?: number;
}

/**
 * graphql-ws on the API's own HTTP server (`upgrade` for /graphql). Connections authenticate once in
 * connection_init (`connectionParams.authorization`, as the HTTP header would be); a revoked key closes
 * the socket (4403), an expired session token too (4419: reconnect with a fresh one), and every event is
 * re-authorized anyway.
 */
export function attachGraphQLWs({ server, yoga, services, keys, sessionSecret, metrics, persisted, log, maxPayloadBytes = 65_536, maxSubscriptionsPerSocket = 25 }: AttachGraphQLWsOptions) {
  const wss = new WebSocketServer({ noServer: true, maxPayload: maxPayloadBytes });
  const byKey = new Map<string, Set<WebSocket>>();

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path !== '/graphql') {
      socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  };
  server.on('upgrade', onUpgrade);
  wss.on('connection', (ws) => {
    metrics.wsConnections.inc();
    ws.once('close', () => metrics.wsConnections.dec());
  });

  const offRevoked = services.live.onKeyRevoked((keyId) => {
    for (const ws of byKey.get(keyId) ?? []) {
      metrics.closedForAuth.inc({ reason: 'key_revoked' });
      ws.close(WS_CLOSE.forbidden, 'API key revoked');
    }
  });

  const disposable = useServer<Record<string, unknown> | undefined, Extra>(
    {
      execute: (args) => (args.rootValue as { execute: (a: ExecutionArgs) => unknown }).execute(args) as never,
      subscribe: (args) => (args.rootValue as { subscribe: (a: ExecutionArgs) => unknown }).subscribe(args) as never,
      onConnect: async (ctx) => {
        const authorization = ctx.connectionParams?.authorization;
        const requestId = randomUUID();
        try {
          if (typeof authorization !== 'string') throw new AppError('UNAUTHENTICATED', 'Send connectionParams.authorization = "Bearer <session token or API key>".');
          const viewer = await authenticateViewer({
            prisma: services.prisma, keys, sessionSecret, authorization,
            organizationId: typeof ctx.connectionParams?.organizationId === 'string' ? ctx.connectionParams.organizationId : null,
          });
          const socket = ctx.extra.socket;
          let expiry: NodeJS.Timeout | null = null;
          if (viewer.kind === 'user') {
            // A moment before the token's own expiry, so the socket's subscriptions end with it (the client
            // subscribes again on its next socket) rather than each with the stream's expiry error first,
            // which a graphql-ws client takes as the subscription's final answer.
            expiry = setTimeout(() => {
              metrics.closedForAuth.inc({ reason: 'session_expired' });
              socket.close(WS_CLOSE.sessionExpired, 'Session token expired; reconnect with a fresh one');
            }, Math.max(0, viewer.expiresAt.getTime() - Date.now() - SESSION_CLOSE_LEAD_MS));
          } else if (viewer.kind === 'apiKey') {
            const set = byKey.get(viewer.keyId) ?? new Set();
            set.add(socket);
            byKey.set(viewer.keyId, set);
          }
          ctx.extra.state = { viewer, requestId, expiry };
          return true;
        } catch (err) {
          const app = err instanceof AppError ? err : null;
          if (!app) log.error({ err, requestId }, 'graphql-ws authentication failed unexpectedly');
          ctx.extra.socket.close(app?.code === 'FORBIDDEN' ? WS_CLOSE.forbidden : WS_CLOSE.unauthorized, (app?.message ?? 'Unauthorized').slice(0, 120));
          return false;
        }
      },
      onSubscribe: async (ctx, _id, payload) => {
        const state = ctx.extra.state;
        if (!state) return ctx.extra.socket.close(CloseCode.Unauthorized, 'Unauthorized');
        // graphql-ws has already registered this one: refuse it with an error, the socket's others go on.
        if (Object.keys(ctx.subscriptions).length > maxSubscriptionsPerSocket) {
          metrics.subscriptionsRefused.inc({ limit: 'socket' });
          const refusal = subscriptionLimitError('socket', maxSubscriptionsPerSocket);
          return [new GraphQLError(refusal.message, { extensions: { code: ERROR_CODES[refusal.code].graphql, limit: 'socket' } })];
        }
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx, req: ctx.extra.request, socket: ctx.extra.socket, params: payload,
          requestId: state.requestId, log: log.child({ requestId: state.requestId, transport: 'ws' }), viewer: state.viewer,
        });
        let document: DocumentNode;
        try {
          document = parse(resolveOperation(payload, persisted));
        } catch (err) {
          // Policy refusals, syntax errors and the token limit (enforced while parsing) answer an error
          // message, not a dropped socket.
          if (err instanceof GraphQLError) return [err];
          throw err;
        }
        const errors = validate(schema, document);
        if (errors.length > 0) return errors;
        return {
          schema, document, operationName: payload.operationName, variableValues: payload.variables,
          contextValue: await contextFactory(), rootValue: { execute, subscribe },
        };
      },
      onClose: (ctx) => {
        const state = ctx.extra.state;
        if (!state) return;
        if (state.expiry) clearTimeout(state.expiry);
        if (state.viewer.kind === 'apiKey') {
          const set = byKey.get(state.viewer.keyId);
          set?.delete(ctx.extra.socket);
          if (set?.size === 0) byKey.delete(state.viewer.keyId);
        }
      },
    },
    wss,
  );

  return {
    async close(): Promise<void> {
      offRevoked();
      server.off('upgrade', onUpgrade);
      for (const ws of wss.clients) ws.close(1001, 'Server shutting down');
      await disposable.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
