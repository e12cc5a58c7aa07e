import type { Plugin } from 'graphql-yoga';
import { createSourceEventStream, execute, type DocumentNode, type ExecutionArgs, type ExecutionResult } from './graphql-js.ts';
import type { GraphQLContext } from './context.ts';

/** Subscription fields whose events every platform admin sees alike (no per-viewer fields below them). */
const ADMIN_STREAMS = new Set(['nodeStatusChanged', 'nodeEvents']);

const rootField = (args: ExecutionArgs): string | null => {
  const operation = args.document.definitions.find((d) => d.kind === 'OperationDefinition' && (!args.operationName || d.name?.value === args.operationName));
  if (operation?.kind !== 'OperationDefinition' || operation.operation !== 'subscription') return null;
  const [first, ...rest] = operation.selectionSet.selections;
  return first?.kind === 'Field' && rest.length === 0 ? first.name.value : null;
};

/**
 * Executes an admin stream's selection once per event and document, not once per subscriber: 1,000
 * dashboards watching the fleet share one result. Only for platform admins (what they may see is the
 * same for all of them) and only for ADMIN_STREAMS; each subscriber's own stream still filters and
 * re-authorizes every event before it gets here (live-events.ts).
 */
export function useSharedSubscriptionExecution(): Plugin<GraphQLContext> {
  const results = new WeakMap<object, Map<string, ExecutionResult | Promise<ExecutionResult>>>();
  const documentIds = new WeakMap<DocumentNode, number>();
  let nextDocumentId = 0;
  return {
    onSubscribe({ args, setSubscribeFn }) {
      const viewer = (args.contextValue as GraphQLContext).viewer;
      if (!(viewer.kind === 'user' && viewer.isPlatformAdmin) || !ADMIN_STREAMS.has(rootField(args) ?? '')) return;
      setSubscribeFn(async (a) => {
        const stream = await createSourceEventStream(a);
        if (!(Symbol.asyncIterator in stream)) return stream;
        let documentId = documentIds.get(a.document);
        if (documentId === undefined) documentIds.set(a.document, (documentId = nextDocumentId++));
        const key = `${documentId}|${a.operationName ?? ''}|${JSON.stringify(a.variableValues ?? {})}`;
        const run = (event: object) => {
          let byKey = results.get(event);
          if (!byKey) results.set(event, (byKey = new Map()));
          let result = byKey.get(key);
          if (!result) byKey.set(key, (result = execute({ ...a, rootValue: event }) as ExecutionResult | Promise<ExecutionResult>));
          return result;
        };
        const iterator = stream[Symbol.asyncIterator]();
        const mapped: AsyncIterableIterator<ExecutionResult> = {
          next: async () => {
            const next = await iterator.next();
            return next.done ? next : { value: await run(next.value as object), done: false };
          },
          return: async () => {
            await iterator.return?.();
            return { value: undefined, done: true };
          },
          [Symbol.asyncIterator]: () => mapped,
        };
        return mapped;
      });
    },
  };
}
