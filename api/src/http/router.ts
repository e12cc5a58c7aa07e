import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AppError } from '@cic/core/errors';
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

/** Answers an error in a route group's protocol (nothing has been sent yet). */
export type ErrorRenderer = (res: ServerResponse, err: AppError, ctx: RequestContext) => void;

/** Routes that share a path prefix and the shape of their errors (e.g. OpenAI's under /v1). */
export interface RouteGroup {
  /** `path` is the full path (`/v1/models`), under the group's prefix. */
  on(method: string | '*', path: string, handler: Handler): RouteGroup;
}

/** Runs before every request under a group's prefix (matched or not); true when it answered the request itself. */
export type GroupHook = (req: IncomingMessage, res: ServerResponse, ctx: RequestContext) => boolean;

export interface RouteMatch {
  /** Route template for metrics; `unmatched` when no route has the path. */
  route: string;
  /** Undefined when nothing matched: 404, or 405 when `allowed` names the path's methods. */
  handler: Handler | undefined;
  allowed: readonly string[];
  /** The error renderer of the group the path is under; undefined means the server's default. */
  renderError: ErrorRenderer | undefined;
  /** The group's hook (CORS under /v1), run before the handler, a 404 or a 405. */
  onRequest: GroupHook | undefined;
}

interface Route {
  method: string | '*';
  /** Exact path, or a prefix when it ends with `/*`. */
  path: string;
  handler: Handler;
}

const pathMatches = (pattern: string, path: string): boolean =>
  pattern.endsWith('/*') ? path === pattern.slice(0, -2) || path.startsWith(pattern.slice(0, -1)) : path === pattern;

/** A tiny route table: exact paths and `prefix/*` mounts, matched in registration order. */
export class Router {
  readonly #routes: Route[] = [];
  readonly #groups: { prefix: string; under: string; renderError: ErrorRenderer; onRequest: GroupHook | undefined }[] = [];

  on(method: string | '*', path: string, handler: Handler): this {
    this.#routes.push({ method, path, handler });
    return this;
  }

  /**
   * Errors of every path under `prefix` (its routes' own errors, its 404s and 405s) are answered by
   * `renderError`, so clients of that API always parse one error shape. `onRequest` sees each of them first.
   */
  group(prefix: string, { renderError, onRequest }: { renderError: ErrorRenderer; onRequest?: GroupHook }): RouteGroup {
    const under = `${prefix}/`;
    this.#groups.push({ prefix, under, renderError, onRequest });
    const group: RouteGroup = {
      on: (method, path, handler) => {
        if (path !== prefix && !path.startsWith(under)) throw new Error(`route ${path} is outside its group ${prefix}`);
        this.on(method, path, handler);
        return group;
      },
    };
    return group;
  }

  match(method: string, path: string): RouteMatch {
    const group = this.#groups.find((g) => path === g.prefix || path.startsWith(g.under));
    const renderError = group?.renderError;
    const onRequest = group?.onRequest;
    let template: string | undefined;
    for (const r of this.#routes) {
      if (!pathMatches(r.path, path)) continue;
      template ??= r.path;
      if (r.method === '*' || r.method === method || (method === 'HEAD' && r.method === 'GET')) {
        return { route: r.path, handler: r.handler, allowed: [], renderError, onRequest };
      }
    }
    if (template === undefined) return { route: 'unmatched', handler: undefined, allowed: [], renderError, onRequest };
    const allowed = [...new Set(this.#routes.filter((r) => pathMatches(r.path, path)).map((r) => r.method))];
    return { route: template, handler: undefined, allowed, renderError, onRequest };
  }
}
