import { json } from '@sveltejs/kit';
import { sessionTokenFor } from '$lib/server/api';
import { config } from '$lib/server/config';
import type { RequestHandler } from './$types';

/**
 * A short-lived token for the browser's graphql-ws connection (sent in connectionParams), valid for
 * BROWSER_TOKEN_TTL_SECONDS: the tab fetches a new one for every (re)connect, including the one the API
 * asks for when this one expires. The session cookie itself stays httpOnly; hooks.server.ts answers 401
 * here without a session.
 */
export const GET: RequestHandler = async ({ locals, setHeaders }) => {
  setHeaders({ 'cache-control': 'no-store' });
  const ttl = config().BROWSER_TOKEN_TTL_SECONDS;
  return json({ token: await sessionTokenFor(locals.userId!, ttl), expiresIn: ttl });
};
