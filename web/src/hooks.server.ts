import { redirect, type Handle } from '@sveltejs/kit';
import { sequence } from '@sveltejs/kit/hooks';
import { authHandle } from '$lib/server/auth';
import { config } from '$lib/server/config';

const PUBLIC_PREFIXES = ['/auth/', '/signin', '/healthz'];

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

/**
 * First of all, before Auth.js reads anything: the request's Host and X-Forwarded-Host/-Proto become
 * ORIGIN's. adapter-node builds event.url from ORIGIN already, but Auth.js builds its own URLs (the
 * magic link among them) from these headers, so otherwise a client would choose the link's host.
 */
const pinPublicOrigin: Handle = ({ event, resolve }) => {
  const origin = new URL(config().ORIGIN);
  const headers = event.request.headers;
  headers.set('host', origin.host);
  headers.set('x-forwarded-host', origin.host);
  headers.set('x-forwarded-proto', origin.protocol.slice(0, -1));
  return resolve(event);
};

/**
 * Every request: look the session up (Auth.js asks the API for the session row and its expiry). Pages
 * of the app need a signed-in user; a missing, expired or signed-out session goes to the sign-in page,
 * and the browser-facing JSON endpoints answer 401. When the API did not answer the lookup, pages go
 * on to the (app) layout, whose API call renders the "API not reachable" page, and JSON answers 503.
 */
const requireSession: Handle = async ({ event, resolve }) => {
  const session = await event.locals.auth();
  event.locals.userId = session?.user?.id ?? null;
  const path = event.url.pathname;
  if (!event.locals.userId && !PUBLIC_PREFIXES.some((p) => path === p || path.startsWith(p))) {
    if (path.startsWith('/api/')) return event.locals.authApiUnavailable ? json(503, { error: 'the API is not reachable' }) : json(401, { error: 'not signed in' });
    if (!event.locals.authApiUnavailable) redirect(303, `/signin?redirectTo=${encodeURIComponent(path + event.url.search)}`);
  }
  const response = await resolve(event);
  response.headers.set('x-frame-options', 'DENY');
  response.headers.set('referrer-policy', 'same-origin');
  return response;
};

export const handle: Handle = sequence(pinPublicOrigin, authHandle, requireSession);
