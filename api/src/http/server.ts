import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { AppError, MASKED_MESSAGE, toAppError } from '@cic/core/errors';
import type { Logger } from '@cic/core/logger';
import type { HttpMetrics } from './metrics.ts';
import { requestIdOf } from './request-id.ts';
import { sendJson } from './respond.ts';
import type { ErrorRenderer, RequestContext, Router } from './router.ts';

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
}

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
export function createHttpServer({ router, metrics, log, renderError = defaultRenderError, trustProxy = false }: HttpServerOptions) {
  const inflight = new Set<AbortController>();
  const sockets = new Set<Socket>();

  const server: Server = createServer({ keepAliveTimeout: 65_000, requestTimeout: 0, headersTimeout: 30_000 }, (req, res) => {
    void handle(req, res);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    metrics.activeConnections.inc();
    socket.once('close', () => {
      sockets.delete(socket);
      metrics.activeConnections.dec();
    });
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    else socket.destroy();
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
    res.once('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.requests.inc({ method, route, status: String(res.statusCode) });
      metrics.duration.observe({ method, route }, seconds);
      ctx.log.info({ method, path, route, status: res.statusCode, ms: Math.round(seconds * 1000), ip }, 'request');
    });
    // The one place errors are answered: in the route group's shape, else the default one.
    try {
      if (match.handler) await match.handler(req, res, ctx);
      else if (match.allowed.length === 0) throw new AppError('NOT_FOUND', `Unknown endpoint: ${method} ${path}.`, { detail: 'unknown_url' });
      else {
        const allowed = match.allowed.join(', ');
        throw new AppError('METHOD_NOT_ALLOWED', `${method} is not allowed on ${path}; use ${allowed}.`, { detail: 'method_not_allowed', headers: { allow: allowed } });
      }
    } catch (err) {
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
    /** Graceful close: stop accepting, wait up to graceMs for in-flight requests, then cut them. */
    async close(graceMs: number): Promise<void> {
      if (!server.listening) return;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const deadline = Date.now() + graceMs;
      while (inflight.size > 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        server.closeIdleConnections();
      }
      if (inflight.size > 0) {
        log.warn({ inflight: inflight.size }, 'grace period over: aborting in-flight requests');
        for (const a of inflight) a.abort(new Error('server shutting down'));
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
