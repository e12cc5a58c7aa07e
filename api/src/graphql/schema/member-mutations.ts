import { z } from 'zod';
import { roleIn } from '@cic/core/auth/viewer';
import { changeMemberRole } from '@cic/core/organizations/change-member-role';
import { inviteMember } from '@cic/core/organizations/invite-member';
import { removeMember } from '@cic/core/organizations/remove-member';
import type { GraphQLContext } from '../context.ts';
import { builder } from '../builder.ts';
import { OrgRoleEnum } from './scalars.ts';
import { auditOf, manageMembershipScope, manageOrganizationScope } from './scopes.ts';

const InviteMemberInput = builder.inputType('InviteMemberInput', {
  fields: (t) => ({
    organizationId: t.id(),
    email: t.string({ validate: { schema: z.string().trim().email('enter a valid email address').max(254) } }),
    role: t.field({ type: OrgRoleEnum, required: false, description: 'Default MEMBER.' }),
  }),
});

const ChangeMemberRoleInput = builder.inputType('ChangeMemberRoleInput', {
  fields: (t) => ({ membershipId: t.id(), role: t.field({ type: OrgRoleEnum }) }),
});

async function memberContext(ctx: GraphQLContext, organizationId: string) {
  return {
    ...auditOf(ctx), prisma: ctx.prisma, actorRole: roleIn(ctx.viewer, organizationId),
    actorIsPlatformAdmin: ctx.viewer.kind === 'user' && ctx.viewer.isPlatformAdmin,
  };
}

const orgOfMembership = async (ctx: GraphQLContext, id: string) =>
  (await ctx.prisma.membership.findUniqueOrThrow({ where: { id }, select: { organizationId: true } })).organizationId;

builder.mutationFields((t) => ({
  inviteMember: t.prismaField({
    type: 'Invitation',
    description: 'Invites an email (owners/admins). An existing user becomes a member at once (acceptedAt set); others join on first sign-in.',
    args: { input: t.arg({ type: InviteMemberInput }) },
    authScopes: (_root, { input }, ctx) => manageOrganizationScope(ctx, String(input.organizationId)),
    resolve: async (query, _root, { input }, ctx) => {
      const organizationId = String(input.organizationId);
      const inv = await inviteMember({ ...(await memberContext(ctx, organizationId)), organizationId, email: input.email, role: input.role ?? 'MEMBER' });
      return ctx.prisma.invitation.findUniqueOrThrow({ ...query, where: { id: inv.id } });
    },
  }),
  changeMemberRole: t.prismaField({
    type: 'Membership',
    description: 'Changes a role (owners/admins; only owners touch OWNER; the last owner stays).',
    args: { input: t.arg({ type: ChangeMemberRoleInput }) },
    authScopes: (_root, { input }, ctx) => manageMembershipScope(ctx, String(input.membershipId)),
    resolve: async (query, _root, { input }, ctx) => {
      const membershipId = String(input.membershipId);
      const organizationId = await orgOfMembership(ctx, membershipId);
      await changeMemberRole({ ...(await memberContext(ctx, organizationId)), membershipId, role: input.role });
      return ctx.prisma.membership.findUniqueOrThrow({ ...query, where: { id: membershipId } });
    },
  }),
  removeMember: t.field({
    type: 'ID',
    description: 'Removes a member (owners/admins; the last owner stays); answers the removed membership id.',
    args: { membershipId: t.arg.id() },
    authScopes: (_root, { membershipId }, ctx) => manageMembershipScope(ctx, String(membershipId)),
    resolve: async (_root, { membershipId }, ctx) => {
      const id = String(membershipId);
      const organizationId = await orgOfMembership(ctx, id);
      return (await removeMember({ ...(await memberContext(ctx, organizationId)), membershipId: id })).id;
    },
  }),
}));
