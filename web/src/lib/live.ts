import { navigating } from '$app/state';
import { createClient, type Client } from 'graphql-ws';
import { refusalSentence } from './refusals';

/**
 * The API closes a socket with this code when the session token it connected with expires
 * (api/src/graphql/attach-graphql-ws.ts): the tab reconnects at once with a fresh token and resyncs.
 */
const SESSION_EXPIRED = 4419;

let client: Client | undefined;
let currentUrl = '';
let connected = false;
/** The last close was the token's expiry: reconnect without waiting, and without alarming the user. */
let renewing = false;

/** The tab has no session any more: live updates stop for good, and the badge says why. */
class SignedOutError extends Error {}

/** Any other failure is retried with backoff (the dashboard or the API may be restarting). */
async function fetchToken(): Promise<string> {
  const res = await fetch('/api/token', { headers: { accept: 'application/json' } });
  if (res.status === 401) throw new SignedOutError('Your session has ended; sign in again for live updates.');
  if (!res.ok) throw new Error(`The dashboard answered ${res.status} for a live-updates token.`);
  return ((await res.json()) as { token: string }).token;
}

/** graphql-ws's own backoff (about 1 s, 2 s, 4 s… plus jitter) for real outages. */
const backoff = (retries: number) => new Promise<void>((resolve) => setTimeout(resolve, 1000 * 2 ** Math.min(retries, 5) + 300 + Math.random() * 2700));

/** A subscription error that only says the token expired (extensions.detail of the API's refusal). */
const isTokenExpiry = (err: unknown) => Array.isArray(err) && err.some((e: { extensions?: { detail?: unknown } }) => e?.extensions?.detail === 'token_expired');

interface FormattedError { message: string; extensions?: { code?: string; requestId?: string } }

/** Why live updates stopped, as the page says it: our own errors as they are, the API's refusals as sentences. */
function whyStopped(err: unknown): string {
  if (err instanceof Error) return err.message;
  const first = (Array.isArray(err) ? err[0] : null) as FormattedError | null;
  if (first) return refusalSentence({ code: first.extensions?.code ?? 'INTERNAL_SERVER_ERROR', message: first.message, requestId: first.extensions?.requestId });
  return 'Live updates stopped; reload the page to restart them.';
}

const closeCode = (event: unknown) => (event && typeof event === 'object' && 'code' in event ? Number(event.code) : 0);

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
    shouldRetry: (err) => !(err instanceof SignedOutError),
    retryWait: (retries) => (renewing ? Promise.resolve() : backoff(retries)),
    connectionParams: async () => ({ authorization: `Bearer ${await fetchToken()}` }),
    on: {
      connected: () => {
        connected = true;
        renewing = false;
      },
      closed: (event) => {
        connected = false;
        renewing = closeCode(event) === SESSION_EXPIRED;
      },
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
   * while the socket was down) never reach this subscriber, so the page reloads its data here. A
   * navigation in flight goes first (see `navigationSettled`); if it left the page, this is not called.
   */
  onResync?: () => void;
}

/**
 * Resolves once no navigation is in flight. SvelteKit lets an invalidation win over a navigation it
 * overlaps, so a resync started while the user follows a link would cancel their click. A navigation
 * cancelled that way stays in `navigating` (its `complete` rejected): waiting for each one once suffices.
 */
async function navigationSettled(): Promise<void> {
  let waited: Promise<void> | null = null;
  while (navigating.complete && navigating.complete !== waited) {
    waited = navigating.complete;
    await waited.catch(() => {});
  }
}

/** Subscribes and returns the unsubscribe function (call it from an $effect's cleanup). */
export function subscribe<T>({ apiUrl, query, variables = {}, onData, onStatus, onResync }: SubscribeOptions<T>): () => void {
  const c = liveClient(apiUrl);
  /** Set once this subscription has failed for good: the socket's later closes and connects are not its news. */
  let failed = false;
  let stopped = false;
  const onLive = () => {
    if (failed) return;
    onStatus?.('live');
    // After the user's navigation, if any: when it leaves the page there is nothing left to resync.
    if (onResync) void navigationSettled().then(() => stopped || onResync());
  };
  // A renewal (the token expired) reconnects at once and resyncs; only other closes are worth a badge.
  const offs = [c.on('connected', onLive), c.on('closed', (event) => {
    if (!failed && closeCode(event) !== SESSION_EXPIRED) onStatus?.('reconnecting');
  })];
  if (connected) queueMicrotask(onLive);
  let stop = () => {};
  const start = () => {
    stop = c.subscribe<T>({ query, variables }, {
      next: (result) => {
        if (result.errors?.length) onStatus?.('error', whyStopped(result.errors));
        if (result.data) onData(result.data as T);
      },
      error: (err) => {
        // The API ends a subscription whose token expired (in case that reaches the tab before the
        // socket's close): subscribe again; it goes out on the next socket, whose connect resyncs the page.
        if (isTokenExpiry(err)) return start();
        failed = true;
        onStatus?.('error', whyStopped(err));
      },
      complete: () => {},
    });
  };
  start();
  return () => {
    stopped = true;
    stop();
    for (const off of offs) off();
  };
}
