import { roleIn } from '@cic/core/auth/viewer';
import { changeMemberRole } from '@cic/core/organizations/change-member-role';
import { removeMember } from '@cic/core/organizations/remove-member';
import type { GraphQLContext } from '../context.ts';
import { builder } from '../builder.ts';
import { OrgRoleEnum } from './scalars.ts';
import { auditOf, manageMembershipScope } from './scopes.ts';

const ChangeMemberRoleInput = builder.inputType('ChangeMemberRoleInput', {
  fields: (t) => ({ membershipId: t.id(), role: t.field({ type: OrgRoleEnum }) }),
});

/** What every membership and invitation service needs besides its own arguments. */
export function memberContext(ctx: GraphQLContext, organizationId: string) {
  return {
    ...auditOf(ctx), prisma: ctx.prisma, actorRole: roleIn(ctx.viewer, organizationId),
    actorIsPlatformAdmin: ctx.viewer.kind === 'user' && ctx.viewer.isPlatformAdmin,
  };
}

const orgOfMembership = async (ctx: GraphQLContext, id: string) =>
  (await ctx.prisma.membership.findUniqueOrThrow({ where: { id }, select: { organizationId: true } })).organizationId;

builder.mutationFields((t) => ({
  changeMemberRole: t.prismaField({
    type: 'Membership',
    description: 'Changes a role (owners/admins; only owners touch OWNER; the last owner stays).',
    args: { input: t.arg({ type: ChangeMemberRoleInput }) },
    authScopes: (_root, { input }, ctx) => manageMembershipScope(ctx, String(input.membershipId)),
    resolve: async (query, _root, { input }, ctx) => {
      const membershipId = String(input.membershipId);
      const organizationId = await orgOfMembership(ctx, membershipId);
      await changeMemberRole({ ...memberContext(ctx, organizationId), membershipId, role: input.role });
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
      return (await removeMember({ ...memberContext(ctx, organizationId), membershipId: id })).id;
    },
  }),
}));
