import { invitationStatus } from '@cic/core/organizations/invitation-status';
import { builder } from '../builder.ts';
import { OrgRoleEnum } from './scalars.ts';
import { readableOrganizations } from './tenant.ts';

export const InvitationStatusEnum = builder.enumType('InvitationStatus', {
  description: 'PENDING until the invitee accepts or declines, or until it expires.',
  values: ['PENDING', 'ACCEPTED', 'DECLINED', 'EXPIRED'] as const,
});

/**
 * An invitation as its organization's owners and admins see it: the invited email and the state of
 * the invitation, never anything about an account that may exist for the email.
 */
builder.prismaNode('Invitation', {
  id: { field: 'id' },
  findUnique: (id, ctx) => ({ id, organization: readableOrganizations(ctx.viewer) }),
  authScopes: (inv) => ({ orgAdmin: inv.organizationId }),
  fields: (t) => ({
    email: t.exposeString('email'),
    role: t.expose('role', { type: OrgRoleEnum }),
    status: t.field({ type: InvitationStatusEnum, resolve: (inv) => invitationStatus(inv) }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When it was first sent.' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', description: 'Resending moves it (INVITATION_VALID_DAYS from then).' }),
    acceptedAt: t.expose('acceptedAt', { type: 'DateTime', nullable: true, description: 'Set when the invitee accepted (acceptInvitation); only then are they a member.' }),
    organization: t.relation('organization'),
  }),
});

/**
 * An invitation as the invitee sees it (`viewer.invitations`, the answer of accept/decline): which
 * organization, which role, who invited. Only ever resolved for the user the invitation is addressed to.
 */
export const ReceivedInvitationRef = builder.prismaObject('Invitation', {
  variant: 'ReceivedInvitation',
  authScopes: { user: true },
  fields: (t) => ({
    id: t.exposeID('id', { description: 'inv_…: pass it to acceptInvitation or declineInvitation.' }),
    organizationId: t.exposeID('organizationId'),
    organizationName: t.string({ select: { organization: { select: { name: true } } }, resolve: (inv) => inv.organization.name }),
    role: t.expose('role', { type: OrgRoleEnum }),
    status: t.field({ type: InvitationStatusEnum, resolve: (inv) => invitationStatus(inv) }),
    invitedBy: t.string({
      nullable: true,
      description: "The inviter's name, else their email; null when unknown.",
      select: { invitedBy: { select: { name: true, email: true } } },
      resolve: (inv) => (inv.invitedBy ? (inv.invitedBy.name ?? inv.invitedBy.email) : null),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
  }),
});
