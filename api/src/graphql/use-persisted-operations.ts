import type { Plugin } from 'graphql-yoga';
import { type OperationParams, type PersistedOperationsPolicy, resolveOperation } from './persisted-operations.ts';

/** Applies the policy to HTTP and SSE requests (attach-graphql-ws.ts applies it to WebSocket subscribes). */
export function usePersistedOperations(policy: PersistedOperationsPolicy): Plugin {
  return {
    onParams({ params, setParams }) {
      const query = resolveOperation(params as OperationParams, policy);
      // Yoga refuses unknown body keys: hand it a plain operation.
      const { documentId: _documentId, ...rest } = params as typeof params & { documentId?: unknown };
      setParams({ ...rest, query });
    },
  };
}
