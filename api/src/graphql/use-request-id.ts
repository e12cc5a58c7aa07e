import { GraphQLError, type ExecutionResult } from './graphql-js.ts';
import type { Plugin } from 'graphql-yoga';

function withRequestId(result: ExecutionResult, requestId: string): ExecutionResult {
  if (!result.errors?.length) return result;
  const errors = result.errors.map(
    (e) => new GraphQLError(e.message, {
      nodes: e.nodes, source: e.source, positions: e.positions, path: e.path, originalError: e.originalError,
      // Errors without a path refused the whole operation before execution (parse, validation, armor limits).
      extensions: { ...(e.path ? {} : { code: 'GRAPHQL_VALIDATION_FAILED' }), ...e.extensions, requestId },
    }),
  );
  return { ...result, errors };
}

/**
 * Adds `extensions.requestId` (the x-request-id of the HTTP request) to every error, so a report can be
 * traced in the logs, and gives operation-level rejections (graphql-armor limits, validation) the code
 * `GRAPHQL_VALIDATION_FAILED` when they carry none.
 */
export function useRequestId(): Plugin<{ requestId?: string }> {
  return {
    onResultProcess({ result, setResult, serverContext }) {
      const requestId = (serverContext as { requestId?: string }).requestId;
      if (!requestId) return;
      if (Array.isArray(result)) setResult(result.map((r: ExecutionResult) => withRequestId(r, requestId)));
      else if (!(Symbol.asyncIterator in result)) setResult(withRequestId(result as ExecutionResult, requestId));
    },
  };
}
