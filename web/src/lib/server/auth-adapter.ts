import type { Adapter, AdapterAccount, AdapterUser, VerificationToken } from '@auth/core/adapters';

/** Must match the API's INTERNAL_AUTH_HEADER. */
const INTERNAL_AUTH_HEADER = 'x-cic-internal-auth';

export interface HttpAdapterOptions {
  apiUrl: string;
  secret: string;
  /** @defaultValue 5000 */
  timeoutMs?: number;
}

interface UserJson { id: string; email: string; name: string | null; image: string | null; emailVerified: string | null }
interface TokenJson { identifier: string; token: string; expires: string }

const toUser = (u: UserJson | null): AdapterUser | null => (u ? { ...u, emailVerified: u.emailVerified ? new Date(u.emailVerified) : null } : null);

/**
 * Auth.js adapter that stores users, accounts and verification tokens through the API's
 * /internal/auth routes, so the dashboard itself never holds database credentials.
 */
export function httpAdapter({ apiUrl, secret, timeoutMs = 5000 }: HttpAdapterOptions): Adapter {
  async function call<T>(op: string, body: unknown): Promise<T> {
    const res = await fetch(`${apiUrl}/internal/auth/${op}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [INTERNAL_AUTH_HEADER]: secret },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!res.ok) throw new Error(`auth adapter ${op}: API answered ${res.status}`);
    return ((await res.json()) as { result: T }).result;
  }
  return {
    createUser: async (user) => toUser(await call<UserJson>('createUser', user)) as AdapterUser,
    getUser: async (id) => toUser(await call<UserJson | null>('getUser', { id })),
    getUserByEmail: async (email) => toUser(await call<UserJson | null>('getUserByEmail', { email })),
    getUserByAccount: async ({ provider, providerAccountId }) => toUser(await call<UserJson | null>('getUserByAccount', { provider, providerAccountId })),
    updateUser: async (user) => toUser(await call<UserJson>('updateUser', user)) as AdapterUser,
    linkAccount: async (account: AdapterAccount) => {
      await call('linkAccount', account);
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
