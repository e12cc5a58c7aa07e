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

/**
 * Yoga's maskError: AppErrors keep their message with `extensions.code` from ERROR_CODES; GraphQL's own
 * errors (validation, limits) pass as they are; anything else becomes "Unexpected error." and is logged.
 * `extensions.requestId` is added to every error by use-request-id.ts.
 */
export function createMaskError(log: Logger) {
  return (error: unknown, message: string): Error => {
    const app = appErrorOf(error);
    const path = error instanceof GraphQLError ? error.path : undefined;
    if (app && app.code !== 'INTERNAL') {
      return createGraphQLError(app.message, {
        path,
        extensions: { code: ERROR_CODES[app.code].graphql, ...(app.param ? { param: app.param } : {}), ...(app.detail ? { detail: app.detail } : {}) },
      });
    }
    if (!app && error instanceof GraphQLError && !error.originalError) return error;
    if (!app && error instanceof GraphQLError && error.originalError instanceof GraphQLError) return error.originalError;
    log.error({ err: error instanceof GraphQLError ? (error.originalError ?? error) : error, path }, 'unexpected GraphQL error');
    return createGraphQLError(message === MASKED_MESSAGE ? message : MASKED_MESSAGE, { path, extensions: { code: ERROR_CODES.INTERNAL.graphql } });
  };
}
