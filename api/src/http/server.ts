import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { AppError, MASKED_MESSAGE, toAppError } from '@cic/core/errors';
import type { Logger } from '@cic/core/logger';
import type { HttpMetrics } from './metrics.ts';
import { requestIdOf } from './request-id.ts';
import { sendJson } from './respond.ts';
import type { ErrorRenderer, RequestContext, Router } from './router.ts';
import { LAST_WORDS_MS, ServerShutdown } from './server-shutdown.ts';

export interface HttpServerOptions {
  router: Router;
  metrics: HttpMetrics;
  log: Logger;
  /** Renders errors outside the router's groups (a group, e.g. /v1, brings its own). */
  renderError?: ErrorRenderer;
  /**
   * Log the client address from `X-Forwarded-For` (set by a load balancer in front) instead of the socket's.
   * @defaultValue false
   */
  trustProxy?: boolean;
  limits?: Partial<HttpLimits>;
}

/** Bounds on what one slow or greedy client can hold (docs/security.md, "HTTP limits"). */
export interface HttpLimits {
  /** Time to receive a request's headers (Node's headersTimeout). */
  headersTimeoutMs: number;
  /** Time to receive a request's body once its headers arrived; the response (a long stream) is not bounded. */
  bodyTimeoutMs: number;
  /** Open connections per socket peer address; behind a load balancer that is the balancer's address. */
  maxConnectionsPerClient: number;
}

const DEFAULT_LIMITS: HttpLimits = { headersTimeoutMs: 30_000, bodyTimeoutMs: 30_000, maxConnectionsPerClient: 256 };

/** Raw answers for errors Node's parser raises before a request exists (no route, no request id yet). */
const CLIENT_ERROR_STATUS: Record<string, string> = {
  HPE_HEADER_OVERFLOW: '431 Request Header Fields Too Large',
  ERR_HTTP_REQUEST_TIMEOUT: '408 Request Timeout',
};

/** The client's address for access logs: the first X-Forwarded-For hop when a trusted proxy set it. */
function clientAddress(req: IncomingMessage, trustProxy: boolean): string | undefined {
  const forwarded = trustProxy ? req.headers['x-forwarded-for'] : undefined;
  const first = typeof forwarded === 'string' ? forwarded.split(',', 1)[0]!.trim() : '';
  return first || req.socket?.remoteAddress;
}

const defaultRenderError: ErrorRenderer = (res, err, ctx) =>
  sendJson(res, err.status, { error: { code: err.code, message: err.message, requestId: ctx.requestId } }, err.headers);

/**
 * The API's one Node HTTP server: request ids, access logs, metrics and error masking around a Router.
 * `close(graceMs)` stops accepting, lets in-flight requests finish, then cuts what is left.
 */
export function createHttpServer({ router, metrics, log, renderError = defaultRenderError, trustProxy = false, limits: given = {} }: HttpServerOptions) {
  const limits: HttpLimits = { ...DEFAULT_LIMITS, ...given };
  /** Set by close(): every answer from then on closes its connection, so keep-alive clients move off. */
  let draining = false;
  const inflight = new Set<AbortController>();
  const sockets = new Set<Socket>();
  const openPerPeer = new Map<string, number>();

  // requestTimeout stays 0: in Node it also bounds the response, which would cut long SSE streams. The body's
  // deadline is enforced per request below; Node checks headersTimeout every connectionsCheckingInterval.
  const server: Server = createServer({
    keepAliveTimeout: 65_000,
    requestTimeout: 0,
    headersTimeout: limits.headersTimeoutMs,
    connectionsCheckingInterval: Math.min(30_000, Math.max(50, Math.floor(limits.headersTimeoutMs / 4))),
  }, (req, res) => {
    void handle(req, res);
  });
  server.on('connection', (socket) => {
    const peer = socket.remoteAddress ?? 'unknown';
    const open = openPerPeer.get(peer) ?? 0;
    if (open >= limits.maxConnectionsPerClient) {
      metrics.refusedConnections.inc();
      socket.destroy();
      return;
    }
    openPerPeer.set(peer, open + 1);
    sockets.add(socket);
    metrics.activeConnections.inc();
    socket.once('close', () => {
      sockets.delete(socket);
      metrics.activeConnections.dec();
      const left = (openPerPeer.get(peer) ?? 1) - 1;
      if (left > 0) openPerPeer.set(peer, left);
      else openPerPeer.delete(peer);
    });
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    const status = CLIENT_ERROR_STATUS[err.code ?? ''] ?? '400 Bad Request';
    metrics.clientErrors.inc({ status: status.slice(0, 3) });
    log.debug({ code: err.code }, 'client error');
    socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    const requestId = requestIdOf(req);
    // Read now: once the response ends the socket may be destroyed and detached from the request.
    const ip = clientAddress(req, trustProxy);
    const method = req.method ?? 'GET';
    const path = (req.url ?? '/').split('?', 1)[0] ?? '/';
    const match = router.match(method, path);
    const { route } = match;
    const abort = new AbortController();
    inflight.add(abort);
    // 'close' on the response fires when the client goes away before we finished (or after we did).
    res.once('close', () => {
      if (!res.writableFinished) abort.abort(new Error('client disconnected'));
      inflight.delete(abort);
    });
    const ctx: RequestContext = { requestId, route, path, signal: abort.signal, log: log.child({ requestId }) };
    res.setHeader('x-request-id', requestId);
    if (draining) res.setHeader('connection', 'close');
    const elapsedSeconds = () => Number(process.hrtime.bigint() - started) / 1e9;
    res.once('finish', () => {
      const seconds = elapsedSeconds();
      metrics.requests.inc({ method, route, status: String(res.statusCode) });
      metrics.duration.observe({ method, route }, seconds);
      ctx.log.info({ method, path, route, status: res.statusCode, ms: Math.round(seconds * 1000), ip }, 'request');
    });
    // A client that leaves before the answer ended (an aborted upload, a closed stream) is its own outcome, not a 5xx.
    res.once('close', () => {
      if (res.writableFinished) return;
      metrics.requests.inc({ method, route, status: 'client_aborted' });
      ctx.log.info({ method, path, route, status: 'client_aborted', ms: Math.round(elapsedSeconds() * 1000), ip }, 'request');
    });
    // The body must arrive within bodyTimeoutMs of the headers, so a client dripping bytes cannot hold the socket
    // (also after an early answer such as a 401: Node would keep reading the rest to reuse the connection).
    let bodyTimedOut = false;
    const bodyTimer = setTimeout(() => {
      if (req.complete) return;
      bodyTimedOut = true;
      ctx.log.info({ method, path, route, ip, ms: limits.bodyTimeoutMs }, 'request body timed out');
      // The rest of the body is never read: answer (in the route's shape) and drop the connection.
      if (res.headersSent) req.socket.destroy();
      else {
        res.once('finish', () => req.socket.destroy());
        const err = new AppError('REQUEST_TIMEOUT', `The request body was not received within ${limits.bodyTimeoutMs} ms.`, { detail: 'request_timeout', headers: { connection: 'close' } });
        (match.renderError ?? renderError)(res, err, ctx);
      }
    }, limits.bodyTimeoutMs);
    req.once('close', () => clearTimeout(bodyTimer));
    // The one place errors are answered: in the route group's shape, else the default one.
    try {
      if (match.onRequest?.(req, res, ctx)) return;
      if (match.handler) await match.handler(req, res, ctx);
      else if (match.allowed.length === 0) throw new AppError('NOT_FOUND', `Unknown endpoint: ${method} ${path}.`, { detail: 'unknown_url' });
      else {
        const allowed = match.allowed.join(', ');
        throw new AppError('METHOD_NOT_ALLOWED', `${method} is not allowed on ${path}; use ${allowed}.`, { detail: 'method_not_allowed', headers: { allow: allowed } });
      }
    } catch (err) {
      // Reading the body failed because the client left (Node then fails the request with ECONNRESET) or was cut
      // for slowness: already logged and counted. A handler that stops reading itself (413) still answers.
      if (bodyTimedOut || (req.errored as NodeJS.ErrnoException | null)?.code === 'ECONNRESET') {
        if (!res.headersSent && !res.destroyed) res.destroy();
        return;
      }
      const appError = toAppError(err);
      if (appError.message === MASKED_MESSAGE) ctx.log.error({ err }, 'unexpected error');
      if (!res.headersSent) (match.renderError ?? renderError)(res, appError, ctx);
      else if (!res.writableEnded) res.destroy();
    }
  }

  return {
    server,
    listen(port: number, host: string): Promise<{ port: number; url: string }> {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const addr = server.address();
          const actual = typeof addr === 'object' && addr ? addr.port : port;
          resolve({ port: actual, url: `http://${host}:${actual}` });
        });
      });
    },
    /**
     * Graceful close. For `announceMs` (part of the grace) the server still answers, each answer with
     * `Connection: close`, so a client reusing a keep-alive connection gets its answer and reconnects
     * elsewhere instead of finding the socket closed under a request already sent. Then it stops
     * accepting, waits until graceMs for in-flight requests, and cuts what is left.
     */
    async close(graceMs: number, announceMs = 0): Promise<void> {
      if (!server.listening) return;
      draining = true;
      const deadline = Date.now() + graceMs;
      const announced = Date.now() + Math.min(announceMs, graceMs);
      if (announced > Date.now()) await new Promise((r) => setTimeout(r, announced - Date.now()));
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      while (inflight.size > 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        server.closeIdleConnections();
      }
      if (inflight.size > 0) {
        log.warn({ inflight: inflight.size }, 'grace period over: aborting in-flight requests');
        for (const a of inflight) a.abort(new ServerShutdown());
        // Streams answer the abort with an error event and end; their sockets are cut only after that.
        const lastWords = Date.now() + LAST_WORDS_MS;
        while (inflight.size > 0 && Date.now() < lastWords) await new Promise((r) => setTimeout(r, 20));
      }
      for (const s of sockets) s.destroy();
      await closed;
    },
    get inflight() {
      return inflight.size;
    },
  };
}

export type HttpServer = ReturnType<typeof createHttpServer>;
