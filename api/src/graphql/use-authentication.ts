import { AppError, ERROR_CODES, MASKED_MESSAGE } from '@cic/core/errors';
import type { Viewer } from '@cic/core/auth/viewer';
import type { Plugin } from 'graphql-yoga';
import type { GraphQLServerContext } from './create-yoga.ts';

export interface AuthenticationOptions {
  /** The viewer of a request's credentials (`Authorization`, `x-organization-id`); throws AppError for bad ones. */
  authenticate: (request: Request) => Promise<Viewer>;
}

/** A refusal in the GraphQL response shape, with the request id, for requests stopped before parsing. */
function refusalResponse(fetchAPI: { Response: typeof Response }, err: AppError, requestId: string): Response {
  const extensions = { code: ERROR_CODES[err.code].graphql, ...(err.detail ? { detail: err.detail } : {}), requestId };
  return new fetchAPI.Response(JSON.stringify({ errors: [{ message: err.message, extensions }] }), {
    status: err.status,
    // The body was never read: close the connection rather than drain whatever the client still sends.
    headers: { 'content-type': 'application/json; charset=utf-8', connection: 'close', ...err.headers },
  });
}

/**
 * Authenticates every GraphQL request over HTTP and SSE before its body is read: no credentials is 401
 * UNAUTHENTICATED, bad ones 401/403, so an anonymous client costs neither a body read nor a parse. CORS
 * preflights and GraphiQL's page are answered by Yoga's own plugins before this runs. The viewer is
 * handed to the context through the server context (graphql-ws sets it from connection_init).
 */
export function useAuthentication({ authenticate }: AuthenticationOptions): Plugin<object, GraphQLServerContext> {
  return {
    async onRequest({ request, serverContext, endResponse, fetchAPI }) {
      try {
        const viewer = await authenticate(request);
        if (viewer.kind === 'anonymous') throw new AppError('UNAUTHENTICATED', 'Authenticate with "Authorization: Bearer <session token or API key>".');
        serverContext.viewer = viewer;
      } catch (err) {
        if (!(err instanceof AppError)) serverContext.log.error({ err }, 'GraphQL authentication failed unexpectedly');
        endResponse(refusalResponse(fetchAPI, err instanceof AppError ? err : new AppError('INTERNAL', MASKED_MESSAGE), serverContext.requestId));
      }
    },
  };
}
