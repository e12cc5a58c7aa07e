import { SvelteKitAuth, type SvelteKitAuthConfig } from '@auth/sveltekit';
import Google from '@auth/sveltekit/providers/google';
import type { Provider } from '@auth/sveltekit/providers';
import type { RequestEvent } from '@sveltejs/kit';
import { httpAdapter, internalAuthCaller } from './auth-adapter';
import { config } from './config';
import { magicLinkSender } from './magic-link-mailer';
import { sameOriginRedirect } from './safe-redirect';

interface SignUpDecision { allowed: boolean; reason: string | null }

/** Sign-in providers from the environment: Google and/or a generic OIDC issuer when configured, email always. */
function providers(signUp: (email: string) => Promise<SignUpDecision> = () => Promise.resolve({ allowed: true, reason: null })): Provider[] {
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
    sendVerificationRequest: magicLinkSender({ server: c.EMAIL_SERVER, from: c.EMAIL_FROM, signUp }),
    options: {},
  });
  return list;
}

/** The providers the sign-in page offers (id and display name only: nothing secret). */
export const signInProviders = () => providers().map((p) => {
  const resolved = typeof p === 'function' ? p() : p;
  return { id: resolved.id, name: resolved.name, type: resolved.type };
});

interface ThrottleDecision { allowed: boolean; retryAfterSeconds: number }

const authConfig = (event: RequestEvent): SvelteKitAuthConfig => {
  const c = config();
  // A failed call tells the hooks that "no session" may only mean "the API did not answer".
  const api = { apiUrl: c.API_URL, secret: c.INTERNAL_AUTH_SECRET, onUnavailable: () => void (event.locals.authApiUnavailable = true) };
  const call = internalAuthCaller(api);
  return {
    secret: c.AUTH_SECRET,
    // Auth.js builds its own URLs (magic links, callbacks) from the Host and X-Forwarded-* headers;
    // hooks.server.ts has already pinned those to ORIGIN, which is what makes trusting them safe.
    trustHost: true,
    adapter: httpAdapter(api),
    providers: providers((email) => call<SignUpDecision>('signUpDecision', { email })),
    // Database sessions: the cookie holds a random token, the API keeps its digest; signing out deletes
    // the row, so a copied cookie stops working at once (docs/security.md).
    session: { strategy: 'database', maxAge: c.AUTH_SESSION_MAX_AGE_SECONDS },
    pages: { signIn: '/signin', verifyRequest: '/signin/check-email', error: '/signin' },
    logger: {
      error: (e) => console.error(JSON.stringify({ level: 'error', msg: 'auth error', error: e.message, type: e.name })),
      warn: (code) => console.warn(JSON.stringify({ level: 'warn', msg: 'auth warning', code })),
    },
    callbacks: {
      /**
       * Before a magic link is minted (every way in: the form action and Auth.js's own POST route),
       * the API counts it per email and per client. The answer is the same whether the account exists.
       */
      async signIn({ user, email }) {
        // An OAuth sign-in (the provider vouches for the address) is refused here when the sign-up policy
        // does not let a new address in; a magic link is refused by mail (magic-link-mailer.ts), so the
        // form answers alike for every address. The API enforces the policy again at createUser.
        if (!email) {
          const signUp = await call<SignUpDecision>('signUpDecision', { email: user.email ?? '' });
          return signUp.allowed || '/signin?error=SignUpClosed';
        }
        if (!email.verificationRequest) return true;
        const decision = await call<ThrottleDecision>('throttleSignInLink', { email: user.email ?? '', client: event.getClientAddress() });
        if (decision.allowed) return true;
        return `/signin?${new URLSearchParams({ error: 'RateLimited', retryAfter: String(decision.retryAfterSeconds) })}`;
      },
      redirect: ({ url }) => sameOriginRedirect(url, c.ORIGIN),
      session({ session, user }) {
        session.user.id = user.id;
        return session;
      },
    },
  };
};

export const { handle: authHandle, signIn, signOut } = SvelteKitAuth(async (event) => authConfig(event));
