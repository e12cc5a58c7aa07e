import { createClient, type Client } from 'graphql-ws';

let client: Client | undefined;
let currentUrl = '';
let connected = false;

async function fetchToken(): Promise<string> {
  const res = await fetch('/api/token', { headers: { accept: 'application/json' } });
  if (!res.ok) throw new Error(`token request failed (${res.status})`);
  return ((await res.json()) as { token: string }).token;
}

/** One graphql-ws connection per tab; each (re)connect fetches a fresh short-lived token. */
function liveClient(apiUrl: string): Client {
  const url = `${apiUrl.replace(/^http/, 'ws').replace(/\/$/, '')}/graphql`;
  if (client && currentUrl === url) return client;
  void client?.dispose();
  currentUrl = url;
  connected = false;
  client = createClient({
    url,
    lazy: true,
    retryAttempts: Infinity,
    shouldRetry: () => true,
    connectionParams: async () => ({ authorization: `Bearer ${await fetchToken()}` }),
    on: {
      connected: () => (connected = true),
      closed: () => (connected = false),
    },
  });
  return client;
}

export interface SubscribeOptions<T> {
  apiUrl: string;
  query: string;
  variables?: Record<string, unknown>;
  onData: (data: T) => void;
  onStatus?: (status: 'live' | 'reconnecting' | 'error', message?: string) => void;
  /**
   * Called once the subscription is on an open socket: when it connects, after every reconnect, and
   * at once if the socket was already open. Events published before then (while the page loaded, or
   * while the socket was down) never reach this subscriber, so the page reloads its data here.
   */
  onResync?: () => void;
}

/** Subscribes and returns the unsubscribe function (call it from an $effect's cleanup). */
export function subscribe<T>({ apiUrl, query, variables = {}, onData, onStatus, onResync }: SubscribeOptions<T>): () => void {
  const c = liveClient(apiUrl);
  const onLive = () => {
    onStatus?.('live');
    onResync?.();
  };
  const offs = [c.on('connected', onLive), c.on('closed', () => onStatus?.('reconnecting'))];
  if (connected) queueMicrotask(onLive);
  const stop = c.subscribe<T>({ query, variables }, {
    next: (result) => {
      if (result.errors?.length) onStatus?.('error', result.errors[0]!.message);
      if (result.data) onData(result.data as T);
    },
    error: (err) => onStatus?.('error', err instanceof Error ? err.message : 'subscription failed'),
    complete: () => {},
  });
  return () => {
    stop();
    for (const off of offs) off();
  };
}
