import { AppError } from '@cic/core/errors';
import type { GraphQLContext } from '../context.ts';
import { canReadOrganization } from '@cic/core/auth/viewer';
import { notFound, readableOrganizations } from './tenant.ts';

function requireAuthenticated(ctx: GraphQLContext): void {
  if (ctx.viewer.kind === 'anonymous') throw new AppError('UNAUTHENTICATED', 'Authenticate with "Authorization: Bearer <session token or API key>".');
}

/**
 * Auth scopes for acting on an organization: OWNER/ADMIN (or platform admin). An organization the caller
 * cannot even read is NOT_FOUND, so mutations do not confirm that other tenants' ids exist.
 */
export function manageOrganizationScope(ctx: GraphQLContext, organizationId: string) {
  requireAuthenticated(ctx);
  if (!canReadOrganization(ctx.viewer, organizationId)) throw notFound('Organization');
  return { orgAdmin: organizationId };
}

/** The same for an API key by id: NOT_FOUND unless its organization is readable. */
export async function manageApiKeyScope(ctx: GraphQLContext, keyId: string) {
  requireAuthenticated(ctx);
  const key = await ctx.prisma.apiKey.findFirst({ where: { id: keyId, organization: readableOrganizations(ctx.viewer) }, select: { organizationId: true } });
  if (!key) throw notFound('API key');
  return { orgAdmin: key.organizationId };
}

/** The same for a membership by id. */
export async function manageMembershipScope(ctx: GraphQLContext, membershipId: string) {
  requireAuthenticated(ctx);
  const m = await ctx.prisma.membership.findFirst({ where: { id: membershipId, organization: readableOrganizations(ctx.viewer) }, select: { organizationId: true } });
  if (!m) throw notFound('Membership');
  return { orgAdmin: m.organizationId };
}

/** The same for an invitation by id. */
export async function manageInvitationScope(ctx: GraphQLContext, invitationId: string) {
  requireAuthenticated(ctx);
  const inv = await ctx.prisma.invitation.findFirst({ where: { id: invitationId, organization: readableOrganizations(ctx.viewer) }, select: { organizationId: true } });
  if (!inv) throw notFound('Invitation');
  return { orgAdmin: inv.organizationId };
}

/** The audit actor and request id every mutation passes to its service. */
export function auditOf(ctx: GraphQLContext) {
  const v = ctx.viewer;
  if (v.kind === 'anonymous') throw new Error('scope-auth lets no anonymous caller reach a mutation');
  return { actor: v.kind === 'user' ? { type: 'USER' as const, id: v.userId } : { type: 'API_KEY' as const, id: v.keyId }, requestId: ctx.requestId };
}
