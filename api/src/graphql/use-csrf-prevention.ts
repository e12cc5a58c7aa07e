import { createGraphQLError, type Plugin } from 'graphql-yoga';

export interface CsrfPreventionOptions {
  /**
   * Any of these headers marks a request as coming from a real GraphQL client, not a cross-site form.
   * @defaultValue ['x-graphql-client', 'x-graphql-yoga-csrf', 'graphql-client-name']
   */
  requestHeaders?: string[];
}

/** Content types a browser may send cross-site without a CORS preflight ("simple" requests). */
const SIMPLE_CONTENT_TYPES = ['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain'];

/**
 * Refuses requests a browser could send from another site without a preflight: a GET or a POST with
 * a "simple" content type needs one of `requestHeaders`. JSON POSTs (the usual client) already force a
 * preflight, so they pass; GraphiQL's page (GET text/html without a query) is served in development.
 */
export function useCsrfPrevention({ requestHeaders = ['x-graphql-client', 'x-graphql-yoga-csrf', 'graphql-client-name'] }: CsrfPreventionOptions = {}): Plugin {
  return {
    onRequestParse({ request }) {
      if (request.method === 'OPTIONS' || requestHeaders.some((h) => request.headers.has(h))) return;
      const contentType = (request.headers.get('content-type') ?? '').split(';', 1)[0]!.trim().toLowerCase();
      const simple = request.method === 'GET' || contentType === '' || SIMPLE_CONTENT_TYPES.includes(contentType);
      if (!simple) return;
      const url = new URL(request.url);
      if (request.method === 'GET' && !url.searchParams.has('query') && (request.headers.get('accept') ?? '').includes('text/html')) return;
      throw createGraphQLError(
        `Request refused (CSRF prevention): send JSON (content-type: application/json) or the header "${requestHeaders[0]}".`,
        { extensions: { code: 'BAD_REQUEST', http: { status: 403 } } },
      );
    },
  };
}
