import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '@cic/core/logger';

/** What every handler gets besides req/res. */
export interface RequestContext {
  requestId: string;
  log: Logger;
  /** Route template (e.g. `/v1/chat/completions`), used as the metrics label. */
  route: string;
  /** Pathname without the query string. */
  path: string;
  /** Set when the request is aborted by the client or the server is shutting down. */
  signal: AbortSignal;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, ctx: RequestContext) => unknown;

interface Route {
  method: string | '*';
  /** Exact path, or a prefix when it ends with `/*`. */
  path: string;
  handler: Handler;
}

/** A tiny route table: exact paths and `prefix/*` mounts, matched in registration order. */
export class Router {
  readonly #routes: Route[] = [];

  on(method: string | '*', path: string, handler: Handler): this {
    this.#routes.push({ method, path, handler });
    return this;
  }

  match(method: string, path: string): { route: string; handler: Handler; allowed: boolean } | null {
    let pathMatched = false;
    for (const r of this.#routes) {
      const hit = r.path.endsWith('/*') ? path === r.path.slice(0, -2) || path.startsWith(r.path.slice(0, -1)) : path === r.path;
      if (!hit) continue;
      pathMatched = true;
      if (r.method === '*' || r.method === method || (method === 'HEAD' && r.method === 'GET')) {
        return { route: r.path, handler: r.handler, allowed: true };
      }
    }
    return pathMatched ? { route: path, handler: () => undefined, allowed: false } : null;
  }
}
