import type { PrismaClient } from '@cic/db';
import { AppError } from '../errors.ts';
import type { KeyAuthenticator } from '../api-keys/key-authenticator.ts';
import { verifySessionToken } from './session-token.ts';
import { ANONYMOUS, type Viewer } from './viewer.ts';

/** The scope an API key needs to call GraphQL (inference keys cannot). */
export const GRAPHQL_KEY_SCOPE = 'graphql';

export interface AuthenticateViewerOptions {
  prisma: PrismaClient;
  keys: KeyAuthenticator;
  /** SESSION_TOKEN_SECRET. */
  sessionSecret: string;
  /** The `Authorization` header (or graphql-ws `connectionParams.authorization`); absent = anonymous. */
  authorization: string | null | undefined;
  /** The `x-organization-id` header: which of the user's organizations is "current". */
  organizationId?: string | null;
}

/**
 * Turns a bearer credential into a Viewer: `cic_…` is an API key (scope `graphql` required), anything
 * else a dashboard session token. Bad credentials are a 401, never a silent anonymous viewer.
 */
export async function authenticateViewer({ prisma, keys, sessionSecret, authorization, organizationId }: AuthenticateViewerOptions): Promise<Viewer> {
  if (!authorization) return ANONYMOUS;
  const match = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
  if (!match) throw new AppError('UNAUTHENTICATED', 'Send credentials as "Authorization: Bearer <token or API key>".');
  const credential = match[1]!;
  if (credential.startsWith('cic_')) {
    const key = await keys.authenticate(credential);
    if (!key.scopes.includes(GRAPHQL_KEY_SCOPE)) {
      throw new AppError('FORBIDDEN', 'This API key lacks the "graphql" scope; create a key with it to use the GraphQL API.', { detail: 'missing_scope' });
    }
    return { kind: 'apiKey', keyId: key.id, prefix: key.prefix, organizationId: key.organizationId, selectedOrganizationId: key.organizationId };
  }
  const token = await verifySessionToken({ token: credential, secret: sessionSecret });
  const user = await prisma.user.findUnique({
    where: { id: token.userId },
    select: { isPlatformAdmin: true, memberships: { select: { organizationId: true, role: true }, orderBy: { createdAt: 'asc' } } },
  });
  if (!user) throw new AppError('UNAUTHENTICATED', 'The user of this session no longer exists.', { detail: 'invalid_token' });
  const roles = new Map(user.memberships.map((m) => [m.organizationId, m.role] as const));
  const selected = organizationId && (roles.has(organizationId) || user.isPlatformAdmin) ? organizationId : (user.memberships[0]?.organizationId ?? null);
  return { kind: 'user', userId: token.userId, isPlatformAdmin: user.isPlatformAdmin, roles, selectedOrganizationId: selected, expiresAt: token.expiresAt };
}
