import type { GroupHook } from './router.ts';

export interface CorsOptions {
  /** Exact origins allowed (`https://app.example.com`), or `*` for any. Empty: no CORS headers at all. */
  origins: readonly string[];
  /** Methods a preflight allows. */
  methods: readonly string[];
  /** Response headers scripts may read (`x-request-id`, rate-limit headers…). */
  exposeHeaders: readonly string[];
  /** Seconds a browser may cache a preflight. @defaultValue 600 */
  maxAgeSeconds?: number;
}

/** Header names a preflight may ask for: tokens only, so nothing odd is echoed back. */
const HEADER_LIST = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+(\s*,\s*[A-Za-z0-9!#$%&'*+.^_`|~-]+)*$/;
const MAX_REQUESTED_HEADERS_LENGTH = 2048;

/**
 * CORS for a route group, as its `onRequest` hook. A request from an allowed origin gets
 * `Access-Control-Allow-Origin` (its own origin; never `Allow-Credentials`, API keys travel in a header a
 * script sets) and the exposed headers; its preflight is answered 204 with the methods and the headers it
 * asked for (the openai SDK sends its own `x-stainless-*` ones). Any other origin gets no CORS header and its
 * preflight is routed as any OPTIONS request (404/405), so the browser refuses the call.
 */
export function createCors({ origins, methods, exposeHeaders, maxAgeSeconds = 600 }: CorsOptions): GroupHook {
  const anyOrigin = origins.includes('*');
  const allowed = new Set(origins);
  const expose = exposeHeaders.join(', ');
  const allowMethods = methods.join(', ');
  return (req, res) => {
    if (origins.length === 0) return false;
    // The answer depends on the Origin header: shared caches must keep one per origin.
    res.appendHeader('vary', 'Origin');
    const origin = req.headers.origin;
    if (origin === undefined || (!anyOrigin && !allowed.has(origin))) return false;
    res.setHeader('access-control-allow-origin', anyOrigin ? '*' : origin);
    const requestedMethod = req.headers['access-control-request-method'];
    if (req.method !== 'OPTIONS' || requestedMethod === undefined) {
      res.setHeader('access-control-expose-headers', expose);
      return false;
    }
    const requestedHeaders = req.headers['access-control-request-headers'];
    res.appendHeader('vary', 'Access-Control-Request-Method, Access-Control-Request-Headers');
    res.setHeader('access-control-allow-methods', allowMethods);
    if (requestedHeaders && requestedHeaders.length <= MAX_REQUESTED_HEADERS_LENGTH && HEADER_LIST.test(requestedHeaders)) {
      res.setHeader('access-control-allow-headers', requestedHeaders);
    }
    res.setHeader('access-control-max-age', String(maxAgeSeconds));
    res.writeHead(204, { 'content-length': '0' });
    res.end();
    return true;
  };
}
