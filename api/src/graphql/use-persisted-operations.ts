import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createGraphQLError, type Plugin } from 'graphql-yoga';

/** The dashboard's operations, by sha256 of their text (api/src/graphql/persisted-operations.json). */
export function loadPersistedOperations(file = new URL('./persisted-operations.json', import.meta.url)): ReadonlyMap<string, string> {
  const entries = Object.entries(JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>);
  for (const [hash, document] of entries) {
    // A mismatched entry would run something other than what the client asked for.
    if (createHash('sha256').update(document).digest('hex') !== hash) throw new Error(`persisted operation ${hash} does not match its sha256`);
  }
  return new Map(entries);
}

export interface PersistedOperationsOptions {
  store: ReadonlyMap<string, string>;
  /**
   * Also run operations sent as text (integrators' own queries). false = only persisted ones.
   * @defaultValue true
   */
  allowArbitraryOperations?: boolean;
}

/**
 * Runs an operation sent by id instead of text: `{"documentId": "<sha256>"}` or Apollo's
 * `{"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "<sha256>"}}}`. Unknown ids answer
 * PERSISTED_QUERY_NOT_FOUND; whether plain text is allowed is `allowArbitraryOperations`.
 */
export function usePersistedOperations({ store, allowArbitraryOperations = true }: PersistedOperationsOptions): Plugin {
  return {
    onParams({ params, setParams }) {
      const extensions = params.extensions as { persistedQuery?: { sha256Hash?: unknown } } | undefined;
      const raw = (params as { documentId?: unknown }).documentId ?? extensions?.persistedQuery?.sha256Hash;
      if (raw === undefined || raw === null) {
        if (!allowArbitraryOperations) throw createGraphQLError('Only persisted operations are accepted here.', { extensions: { code: 'PERSISTED_QUERY_ONLY', http: { status: 400 } } });
        return;
      }
      const id = String(raw).replace(/^sha256:/, '');
      const query = store.get(id);
      if (!query) throw createGraphQLError('Persisted operation not found.', { extensions: { code: 'PERSISTED_QUERY_NOT_FOUND', http: { status: 400 } } });
      // Yoga refuses unknown body keys: hand it a plain operation.
      const { documentId: _documentId, ...rest } = params as typeof params & { documentId?: unknown };
      setParams({ ...rest, query });
    },
  };
}
