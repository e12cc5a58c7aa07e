import { createClient as createSseClient } from 'graphql-sse';
import { createClient as createWsClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

export interface Received<T> {
  events: T[];
  errors: unknown[];
  completed: boolean;
  stop: () => void;
}

/** A graphql-ws client as the dashboard uses it, with the close event recorded. */
export function wsClient(url: string, authorization?: string) {
  const closes: { code: number; reason: string }[] = [];
  const client: Client = createWsClient({
    url: `${url.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: true,
    connectionParams: authorization ? { authorization: `Bearer ${authorization}` } : {},
    on: { closed: (e) => closes.push({ code: (e as { code: number }).code, reason: String((e as { reason: string }).reason) }) },
  });
  return { client, closes };
}

/** graphql-sse in distinct connections mode (one HTTP stream per subscription). */
export function sseClient(url: string, authorization: string) {
  return createSseClient({ url: `${url}/graphql`, headers: { authorization: `Bearer ${authorization}` }, retryAttempts: 0 });
}

/** Subscribes with any client exposing graphql-ws/graphql-sse's `subscribe(payload, sink)`. */
export function collect<T>(
  client: { subscribe: (payload: { query: string; variables?: Record<string, unknown> }, sink: { next: (v: { data?: unknown; errors?: unknown }) => void; error: (e: unknown) => void; complete: () => void }) => () => void },
  query: string,
  variables: Record<string, unknown> = {},
): Received<T> {
  const received: Received<T> = { events: [], errors: [], completed: false, stop: () => undefined };
  received.stop = client.subscribe({ query, variables }, {
    next: (v) => (v.errors ? received.errors.push(v.errors) : received.events.push(v.data as T)),
    error: (e) => received.errors.push(e),
    complete: () => (received.completed = true),
  });
  return received;
}
