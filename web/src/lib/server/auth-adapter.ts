import type { Adapter, AdapterAccount, AdapterSession, AdapterUser, VerificationToken } from '@auth/core/adapters';

/** Must match the API's INTERNAL_AUTH_HEADER. */
const INTERNAL_AUTH_HEADER = 'x-cic-internal-auth';

export interface InternalAuthOptions {
  apiUrl: string;
  secret: string;
  /** @defaultValue 5000 */
  timeoutMs?: number;
  /** Called when the API cannot answer (unreachable, or a 5xx), before the error is thrown. */
  onUnavailable?: () => void;
}

interface UserJson { id: string; email: string; name: string | null; image: string | null; emailVerified: string | null }
interface TokenJson { identifier: string; token: string; expires: string }
interface SessionJson { sessionToken: string; userId: string; expires: string }

const toUser = (u: UserJson | null): AdapterUser | null => (u ? { ...u, emailVerified: u.emailVerified ? new Date(u.emailVerified) : null } : null);
const toSession = (s: SessionJson | null): AdapterSession | null => (s ? { ...s, expires: new Date(s.expires) } : null);

/** Calls one of the API's /internal/auth operations and returns its `result`. */
export function internalAuthCaller({ apiUrl, secret, timeoutMs = 5000, onUnavailable }: InternalAuthOptions) {
  return async function call<T>(op: string, body: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${apiUrl}/internal/auth/${op}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [INTERNAL_AUTH_HEADER]: secret },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      onUnavailable?.();
      throw err;
    }
    if (res.status >= 500) onUnavailable?.();
    if (!res.ok) throw new Error(`auth adapter ${op}: API answered ${res.status}`);
    return ((await res.json()) as { result: T }).result;
  };
}

/**
 * Auth.js adapter that stores users, accounts, sessions and verification tokens through the API's
 * /internal/auth routes, so the dashboard itself never holds database credentials.
 */
export function httpAdapter(options: InternalAuthOptions): Adapter {
  const call = internalAuthCaller(options);
  return {
    createUser: async (user) => toUser(await call<UserJson>('createUser', user)) as AdapterUser,
    getUser: async (id) => toUser(await call<UserJson | null>('getUser', { id })),
    getUserByEmail: async (email) => toUser(await call<UserJson | null>('getUserByEmail', { email })),
    getUserByAccount: async ({ provider, providerAccountId }) => toUser(await call<UserJson | null>('getUserByAccount', { provider, providerAccountId })),
    updateUser: async (user) => toUser(await call<UserJson>('updateUser', user)) as AdapterUser,
    linkAccount: async (account: AdapterAccount) => {
      await call('linkAccount', account);
    },
    createSession: async (session) => toSession(await call<SessionJson>('createSession', session)) as AdapterSession,
    getSessionAndUser: async (sessionToken) => {
      const found = await call<{ session: SessionJson; user: UserJson } | null>('getSessionAndUser', { sessionToken });
      return found ? { session: toSession(found.session)!, user: toUser(found.user)! } : null;
    },
    updateSession: async ({ sessionToken, expires }) => toSession(await call<SessionJson | null>('updateSession', { sessionToken, expires })),
    deleteSession: async (sessionToken) => {
      await call('deleteSession', { sessionToken });
    },
    createVerificationToken: async (token: VerificationToken) => {
      const t = await call<TokenJson>('createVerificationToken', token);
      return { ...t, expires: new Date(t.expires) };
    },
    useVerificationToken: async (params) => {
      const t = await call<TokenJson | null>('useVerificationToken', params);
      return t ? { ...t, expires: new Date(t.expires) } : null;
    },
  };
}
