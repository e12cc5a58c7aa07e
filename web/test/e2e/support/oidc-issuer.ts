import type { Server } from 'node:http';
import Provider, { type KoaContextWithOIDC } from 'oidc-provider';
import { freePort } from './processes.ts';

export interface OidcIssuerOptions {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
}

/**
 * A local OpenID provider standing in for Google. Its development login form accepts any login
 * name; the account's email is `<login>` when it contains @, else `<login>@oidc.test`.
 */
export async function startOidcIssuer({ clientId, clientSecret, redirectUri }: OidcIssuerOptions) {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [{ client_id: clientId, client_secret: clientSecret, redirect_uris: [redirectUri], grant_types: ['authorization_code'], response_types: ['code'] }],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    // Put the email in the ID token: Auth.js reads the profile from it.
    conformIdTokenClaims: false,
    cookies: { keys: ['e2e-oidc-cookie-key'] },
    ttl: { Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 600, IdToken: 600, AuthorizationCode: 60 },
    findAccount: async (_ctx: KoaContextWithOIDC, id: string) => ({
      accountId: id,
      claims: async () => ({ sub: id, email: id.includes('@') ? id : `${id}@oidc.test`, email_verified: true, name: `OIDC ${id.split('@')[0]}` }),
    }),
    // A first-party test client: grant the requested scopes without a consent screen.
    loadExistingGrant: async (ctx: KoaContextWithOIDC) => {
      const accountId = ctx.oidc.session!.accountId!;
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client!.clientId, accountId });
      grant.addOIDCScope('openid email profile');
      await grant.save();
      return grant;
    },
  });
  const server: Server = await new Promise((resolve) => {
    const s = provider.listen(port, '127.0.0.1', () => resolve(s));
  });
  return { issuer, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
