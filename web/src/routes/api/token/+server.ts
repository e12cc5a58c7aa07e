import { json } from '@sveltejs/kit';
import { sessionTokenFor } from '$lib/server/api';
import type { RequestHandler } from './$types';

/** Lifetime of the browser's subscription token: enough to open a WebSocket, too short to be worth stealing. */
const BROWSER_TOKEN_TTL_SECONDS = 120;

/**
 * A short-lived token for the browser's graphql-ws connection (sent in connectionParams). The session
 * cookie itself stays httpOnly; hooks.server.ts answers 401 here without a session.
 */
export const GET: RequestHandler = async ({ locals, setHeaders }) => {
  setHeaders({ 'cache-control': 'no-store' });
  const token = await sessionTokenFor(locals.userId!, BROWSER_TOKEN_TTL_SECONDS);
  return json({ token, expiresIn: BROWSER_TOKEN_TTL_SECONDS });
};
