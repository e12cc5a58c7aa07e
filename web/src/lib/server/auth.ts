import { SvelteKitAuth, type SvelteKitAuthConfig } from '@auth/sveltekit';
import Google from '@auth/sveltekit/providers/google';
import type { Provider } from '@auth/sveltekit/providers';
import { httpAdapter } from './auth-adapter';
import { config } from './config';
import { magicLinkSender } from './magic-link-mailer';

/** Sign-in providers from the environment: Google and/or a generic OIDC issuer when configured, email always. */
function providers(): Provider[] {
  const c = config();
  const list: Provider[] = [];
  if (c.AUTH_GOOGLE_ID && c.AUTH_GOOGLE_SECRET) list.push(Google({ clientId: c.AUTH_GOOGLE_ID, clientSecret: c.AUTH_GOOGLE_SECRET }));
  if (c.AUTH_OIDC_ISSUER && c.AUTH_OIDC_ID && c.AUTH_OIDC_SECRET) {
    list.push({
      id: 'oidc',
      name: c.AUTH_OIDC_NAME,
      type: 'oidc',
      issuer: c.AUTH_OIDC_ISSUER,
      clientId: c.AUTH_OIDC_ID,
      clientSecret: c.AUTH_OIDC_SECRET,
      checks: ['pkce', 'state', 'nonce'],
    });
  }
  list.push({
    id: 'email',
    type: 'email',
    name: 'Email',
    from: c.EMAIL_FROM,
    maxAge: 24 * 3600,
    sendVerificationRequest: magicLinkSender({ server: c.EMAIL_SERVER, from: c.EMAIL_FROM }),
    options: {},
  });
  return list;
}

/** The providers the sign-in page offers (id and display name only: nothing secret). */
export const signInProviders = () => providers().map((p) => {
  const resolved = typeof p === 'function' ? p() : p;
  return { id: resolved.id, name: resolved.name, type: resolved.type };
});

const authConfig = (): SvelteKitAuthConfig => {
  const c = config();
  return {
    secret: c.AUTH_SECRET,
    trustHost: true,
    adapter: httpAdapter({ apiUrl: c.API_URL, secret: c.INTERNAL_AUTH_SECRET }),
    providers: providers(),
    // JWT sessions: the cookie carries the signed-in user id; every request still checks it (hooks.server.ts).
    session: { strategy: 'jwt', maxAge: c.AUTH_SESSION_MAX_AGE_SECONDS },
    pages: { signIn: '/signin', verifyRequest: '/signin/check-email', error: '/signin' },
    logger: {
      error: (e) => console.error(JSON.stringify({ level: 'error', msg: 'auth error', error: e.message, type: e.name })),
      warn: (code) => console.warn(JSON.stringify({ level: 'warn', msg: 'auth warning', code })),
    },
    callbacks: {
      session({ session, token }) {
        if (token.sub) session.user.id = token.sub;
        return session;
      },
    },
  };
};

export const { handle: authHandle, signIn, signOut } = SvelteKitAuth(async () => authConfig());
