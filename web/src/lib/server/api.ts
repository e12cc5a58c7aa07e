import { error, fail, redirect, type RequestEvent } from '@sveltejs/kit';
import { signSessionToken } from '@cic/core/auth/session-token';
import { refusalSentence } from '$lib/refusals';
import { apiUrl, config } from './config';

/** A GraphQL error the API answered with; `sentence` is what the page shows for it. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(readonly code: string, message: string, readonly requestId: string | null = null) {
    super(message);
  }

  get sentence(): string {
    return refusalSentence({ code: this.code, message: this.message, requestId: this.requestId });
  }
}

/** Thrown when the API cannot be reached: pages show a "try again" state instead of crashing. */
export class ApiUnavailableError extends Error {
  override name = 'ApiUnavailableError';
}

/** The organization the user picked in the dashboard (the API's `x-organization-id`). */
export const ORG_COOKIE = 'cic_org';

/** Auth.js's session cookie names (the __Secure- one on https). */
const SESSION_COOKIES = ['authjs.session-token', '__Secure-authjs.session-token'];

interface GraphQLResponse<T> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string; requestId?: string } }[];
}

/** A short-lived token the API accepts as this user (signed with SESSION_TOKEN_SECRET). */
export async function sessionTokenFor(userId: string, ttlSeconds = 300): Promise<string> {
  return signSessionToken({ userId, secret: config().SESSION_TOKEN_SECRET, ttlSeconds });
}

/**
 * Calls the API's /graphql as the signed-in user, with a freshly signed short-lived token. The
 * session was checked in hooks.server.ts; an UNAUTHENTICATED answer (user deleted) signs them out.
 */
export async function gql<T>(event: Pick<RequestEvent, 'locals' | 'fetch' | 'url' | 'cookies'>, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const userId = event.locals.userId;
  if (!userId) {
    // hooks.server.ts lets a request without a user this far only when the API missed the session lookup.
    if (event.locals.authApiUnavailable) throw new ApiUnavailableError(`The API at ${apiUrl()} did not answer the session lookup.`);
    redirect(303, '/signin');
  }
  const token = await sessionTokenFor(userId, 60);
  let res: Response;
  try {
    res = await fetch(`${apiUrl()}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json',
        authorization: `Bearer ${token}`,
        ...(event.cookies.get(ORG_COOKIE) ? { 'x-organization-id': event.cookies.get(ORG_COOKIE)! } : {}),
      },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (err) {
    throw new ApiUnavailableError(`The API at ${apiUrl()} is not reachable (${err instanceof Error ? err.message : String(err)}).`);
  }
  let body: GraphQLResponse<T>;
  try {
    body = (await res.json()) as GraphQLResponse<T>;
  } catch {
    throw new ApiUnavailableError(`The API answered ${res.status} without a GraphQL body.`);
  }
  const first = body.errors?.[0];
  if (first) {
    const code = first.extensions?.code ?? 'INTERNAL_SERVER_ERROR';
    if (code === 'UNAUTHENTICATED') {
      // The API no longer accepts this user (deleted, or the token secret changed): end the session,
      // or /signin would bounce a still-valid cookie straight back here.
      for (const name of SESSION_COOKIES) event.cookies.delete(name, { path: '/' });
      redirect(303, `/signin?redirectTo=${encodeURIComponent(event.url.pathname)}`);
    }
    throw new ApiError(code, first.message, first.extensions?.requestId ?? null);
  }
  if (!body.data) throw new ApiUnavailableError(`The API answered ${res.status} without data.`);
  return body.data;
}

/** For loads: a result or a message that says what to do, so a page renders even with the API down. */
export async function tryGql<T>(event: Pick<RequestEvent, 'locals' | 'fetch' | 'url' | 'cookies'>, query: string, variables: Record<string, unknown> = {}): Promise<{ data: T; problem: null } | { data: null; problem: string }> {
  try {
    return { data: await gql<T>(event, query, variables), problem: null };
  } catch (err) {
    if (err instanceof ApiUnavailableError) return { data: null, problem: 'The API is not reachable right now. Check that it is running, then reload this page.' };
    if (err instanceof ApiError) {
      if (err.code === 'FORBIDDEN') error(403, { message: 'This page is for administrators.', hint: 'Ask an owner or a platform admin for access.' });
      return { data: null, problem: err.sentence };
    }
    throw err;
  }
}

/** For form actions: the refusal as a plain sentence, or a generic one when the API is down. */
export function actionMessage(err: unknown): string {
  if (err instanceof ApiError) return err.sentence;
  if (err instanceof ApiUnavailableError) return 'The API is not reachable right now; nothing was changed. Try again in a moment.';
  throw err;
}

/**
 * A form action that runs one mutation: `{ action, ok: true, message }` when it went through, else a
 * 400 with the refusal as a plain sentence (the page shows either next to the form named `action`).
 */
export async function runAction(event: Pick<RequestEvent, 'locals' | 'fetch' | 'url' | 'cookies'>, action: string, query: string, variables: Record<string, unknown>, message: string) {
  try {
    await gql(event, query, variables);
    return { action, ok: true, message };
  } catch (err) {
    return fail(400, { action, ok: false, message: actionMessage(err) });
  }
}
