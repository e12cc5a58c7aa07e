import { GraphQLError } from './graphql-js.ts';
import { createGraphQLError } from 'graphql-yoga';
import { AppError, ERROR_CODES, MASKED_MESSAGE } from '@cic/core/errors';
import type { Logger } from '@cic/core/logger';

function appErrorOf(error: unknown): AppError | null {
  for (let e: unknown = error, depth = 0; e && depth < 5; depth++) {
    if (e instanceof AppError) return e;
    e = e instanceof GraphQLError ? e.originalError : e instanceof Error ? e.cause : null;
  }
  return null;
}

/** Extensions that describe our internals (Yoga's JSON parser reports the SyntaxError it caught as `originalError`). */
const INTERNAL_EXTENSIONS = ['originalError', 'stacktrace', 'exception'];

function withoutInternals(error: GraphQLError): GraphQLError {
  if (!INTERNAL_EXTENSIONS.some((k) => k in error.extensions)) return error;
  const extensions: Record<string, unknown> = Object.fromEntries(Object.entries(error.extensions).filter(([k]) => !INTERNAL_EXTENSIONS.includes(k)));
  // Yoga keeps a request error's 400 under `accept: application/json` only while originalError is there;
  // without it, a non-spec status keeps the 400.
  if (error.extensions.http) extensions.http = { ...error.extensions.http, spec: false };
  return new GraphQLError(error.message, { nodes: error.nodes, source: error.source, positions: error.positions, path: error.path, extensions });
}

/**
 * Yoga's maskError: AppErrors keep their message with `extensions.code` from ERROR_CODES; GraphQL's own
 * errors (validation, limits) pass as they are; anything else becomes "Unexpected error." and is logged.
 * `extensions.requestId` is added to every error by use-request-id.ts.
 */
export function createMaskError(log: Logger, { maxBodyBytes }: { maxBodyBytes?: number } = {}) {
  return (error: unknown, message: string): Error => {
    const app = appErrorOf(error);
    const path = error instanceof GraphQLError ? error.path : undefined;
    // Yoga's body limit (maxRequestBodySize) in our code; the unread rest of the body is not drained.
    if (error instanceof GraphQLError && error.extensions.code === 'REQUEST_ENTITY_TOO_LARGE') {
      return createGraphQLError(`Request body exceeds the limit of ${maxBodyBytes ?? '?'} bytes.`, {
        extensions: { code: ERROR_CODES.PAYLOAD_TOO_LARGE.graphql, http: { status: 413, headers: { connection: 'close' } } },
      });
    }
    if (app && app.code !== 'INTERNAL') {
      return createGraphQLError(app.message, {
        path,
        extensions: { code: ERROR_CODES[app.code].graphql, ...(app.param ? { param: app.param } : {}), ...(app.detail ? { detail: app.detail } : {}) },
      });
    }
    if (!app && error instanceof GraphQLError && !error.originalError) return withoutInternals(error);
    if (!app && error instanceof GraphQLError && error.originalError instanceof GraphQLError) return withoutInternals(error.originalError);
    log.error({ err: error instanceof GraphQLError ? (error.originalError ?? error) : error, path }, 'unexpected GraphQL error');
    return createGraphQLError(message === MASKED_MESSAGE ? message : MASKED_MESSAGE, { path, extensions: { code: ERROR_CODES.INTERNAL.graphql } });
  };
}
