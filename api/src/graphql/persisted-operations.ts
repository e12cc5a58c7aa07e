import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createGraphQLError } from 'graphql-yoga';
import type { GraphQLError } from './graphql-js.ts';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * The dashboard's operations by sha256 of their exact text (api/src/graphql/persisted-operations.json,
 * written by `npm run persisted-operations` from the dashboard's sources).
 */
export function loadPersistedOperations(file = new URL('./persisted-operations.json', import.meta.url)): ReadonlyMap<string, string> {
  const entries = Object.entries(JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>);
  for (const [hash, document] of entries) {
    // A mismatched entry would run something other than what the client asked for.
    if (sha256(document) !== hash) throw new Error(`persisted operation ${hash} does not match its sha256`);
  }
  return new Map(entries);
}

export interface PersistedOperationsPolicy {
  store: ReadonlyMap<string, string>;
  /**
   * Also run operations sent as text that are not in the store (integrators' own queries). false = only
   * the store's operations, sent by id or as their exact text.
   * @defaultValue true
   */
  allowArbitraryOperations?: boolean;
}

/** What a request (HTTP body, SSE or graphql-ws subscribe payload) names as its operation. */
export interface OperationParams {
  query?: unknown;
  documentId?: unknown;
  extensions?: unknown;
}

/**
 * The document to run for a request, under the policy: by id (`{"documentId": "<sha256>"}` or Apollo's
 * `{"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "<sha256>"}}}`), or the text sent.
 * Throws PERSISTED_QUERY_NOT_FOUND for an unknown id and PERSISTED_QUERY_ONLY for unregistered text
 * when only persisted operations are allowed.
 */
export function resolveOperation(params: OperationParams, { store, allowArbitraryOperations = true }: PersistedOperationsPolicy): string {
  const extensions = params.extensions as { persistedQuery?: { sha256Hash?: unknown } } | undefined;
  const raw = params.documentId ?? extensions?.persistedQuery?.sha256Hash;
  if (raw !== undefined && raw !== null) {
    const document = store.get(String(raw).replace(/^sha256:/, ''));
    if (!document) throw refusal('Persisted operation not found.', 'PERSISTED_QUERY_NOT_FOUND');
    return document;
  }
  const query = typeof params.query === 'string' ? params.query : '';
  if (!allowArbitraryOperations && !store.has(sha256(query))) throw refusal('Only persisted operations are accepted here.', 'PERSISTED_QUERY_ONLY');
  return query;
}

const refusal = (message: string, code: string): GraphQLError => createGraphQLError(message, { extensions: { code, http: { status: 400 } } });
