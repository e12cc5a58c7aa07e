import { redirect, type Handle } from '@sveltejs/kit';
import { sequence } from '@sveltejs/kit/hooks';
import { authHandle } from '$lib/server/auth';

const PUBLIC_PREFIXES = ['/auth/', '/signin', '/healthz'];

/**
 * Every request: decode and check the session (Auth.js verifies the JWT and its expiry). Pages of
 * the app need a signed-in user; an expired or missing session goes to the sign-in page, and the
 * browser-facing JSON endpoints answer 401.
 */
const requireSession: Handle = async ({ event, resolve }) => {
  const session = await event.locals.auth();
  event.locals.userId = session?.user?.id ?? null;
  const path = event.url.pathname;
  if (!event.locals.userId && !PUBLIC_PREFIXES.some((p) => path === p || path.startsWith(p))) {
    if (path.startsWith('/api/')) return new Response(JSON.stringify({ error: 'not signed in' }), { status: 401, headers: { 'content-type': 'application/json' } });
    redirect(303, `/signin?redirectTo=${encodeURIComponent(path + event.url.search)}`);
  }
  const response = await resolve(event);
  response.headers.set('x-frame-options', 'DENY');
  response.headers.set('referrer-policy', 'same-origin');
  return response;
};

export const handle: Handle = sequence(authHandle, requireSession);
