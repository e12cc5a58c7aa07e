import { z } from 'zod';
import { acceptInvitation } from '@cic/core/organizations/accept-invitation';
import { cancelInvitation } from '@cic/core/organizations/cancel-invitation';
import { declineInvitation } from '@cic/core/organizations/decline-invitation';
import { inviteMember } from '@cic/core/organizations/invite-member';
import { resendInvitation } from '@cic/core/organizations/resend-invitation';
import type { GraphQLContext } from '../context.ts';
import { builder } from '../builder.ts';
import { ReceivedInvitationRef } from './invitation.ts';
import { memberContext } from './member-mutations.ts';
import { OrgRoleEnum } from './scalars.ts';
import { manageInvitationScope, manageOrganizationScope } from './scopes.ts';

const InviteMemberInput = builder.inputType('InviteMemberInput', {
  fields: (t) => ({
    organizationId: t.id(),
    email: t.string({ validate: { schema: z.string().trim().email('enter a valid email address').max(254) } }),
    role: t.field({ type: OrgRoleEnum, required: false, description: 'Default MEMBER.' }),
  }),
});

type InvitationEvent = 'created' | 'resent' | 'accepted' | 'declined' | 'canceled';

function recordInvitationEvent(ctx: GraphQLContext, event: InvitationEvent, invitationId: string): void {
  ctx.invitationEvents.inc({ event });
  ctx.log.info({ invitationId, event }, `invitation ${event}`);
}

/** The signed-in user answering (scope `user` already refused API keys and anonymous callers). */
function answererOf(ctx: GraphQLContext, id: string) {
  if (ctx.viewer.kind !== 'user') throw new Error('scope-auth lets only users answer invitations');
  return { prisma: ctx.prisma, userId: ctx.viewer.userId, invitationId: id, requestId: ctx.requestId };
}

const orgOfInvitation = async (ctx: GraphQLContext, id: string) =>
  (await ctx.prisma.invitation.findUniqueOrThrow({ where: { id }, select: { organizationId: true } })).organizationId;

builder.mutationFields((t) => ({
  inviteMember: t.prismaField({
    type: 'Invitation',
    description: 'Invites an email (owners/admins): always PENDING until the invitee accepts; the answer is the same whether or not the email has an account.',
    args: { input: t.arg({ type: InviteMemberInput }) },
    authScopes: (_root, { input }, ctx) => manageOrganizationScope(ctx, String(input.organizationId)),
    resolve: async (query, _root, { input }, ctx) => {
      const organizationId = String(input.organizationId);
      const inv = await inviteMember({
        ...memberContext(ctx, organizationId), organizationId, email: input.email, role: input.role ?? 'MEMBER', validDays: ctx.invitationValidDays,
      });
      recordInvitationEvent(ctx, 'created', inv.id);
      return ctx.prisma.invitation.findUniqueOrThrow({ ...query, where: { id: inv.id } });
    },
  }),
  resendInvitation: t.prismaField({
    type: 'Invitation',
    description: 'Reopens an invitation that was not accepted (owners/admins): a new expiry, a decline forgotten.',
    args: { id: t.arg.id() },
    authScopes: (_root, { id }, ctx) => manageInvitationScope(ctx, String(id)),
    resolve: async (query, _root, { id }, ctx) => {
      const invitationId = String(id);
      const organizationId = await orgOfInvitation(ctx, invitationId);
      await resendInvitation({ ...memberContext(ctx, organizationId), invitationId, validDays: ctx.invitationValidDays });
      recordInvitationEvent(ctx, 'resent', invitationId);
      return ctx.prisma.invitation.findUniqueOrThrow({ ...query, where: { id: invitationId } });
    },
  }),
  cancelInvitation: t.field({
    type: 'ID',
    description: 'Takes back an invitation that was not accepted (owners/admins); answers its id.',
    args: { id: t.arg.id() },
    authScopes: (_root, { id }, ctx) => manageInvitationScope(ctx, String(id)),
    resolve: async (_root, { id }, ctx) => {
      const invitationId = String(id);
      const organizationId = await orgOfInvitation(ctx, invitationId);
      await cancelInvitation({ ...memberContext(ctx, organizationId), invitationId });
      recordInvitationEvent(ctx, 'canceled', invitationId);
      return invitationId;
    },
  }),
  acceptInvitation: t.prismaField({
    type: ReceivedInvitationRef,
    description: "The invitee (the signed-in user with the invited email) joins the organization with the invited role. Anyone else's invitation is NOT_FOUND.",
    args: { id: t.arg.id() },
    authScopes: { user: true },
    resolve: async (query, _root, { id }, ctx) => {
      const invitationId = String(id);
      await acceptInvitation(answererOf(ctx, invitationId));
      recordInvitationEvent(ctx, 'accepted', invitationId);
      return ctx.prisma.invitation.findUniqueOrThrow({ ...query, where: { id: invitationId } });
    },
  }),
  declineInvitation: t.prismaField({
    type: ReceivedInvitationRef,
    description: 'The invitee declines (the organization sees DECLINED). Anyone else\'s invitation is NOT_FOUND.',
    args: { id: t.arg.id() },
    authScopes: { user: true },
    resolve: async (query, _root, { id }, ctx) => {
      const invitationId = String(id);
      await declineInvitation(answererOf(ctx, invitationId));
      recordInvitationEvent(ctx, 'declined', invitationId);
      return ctx.prisma.invitation.findUniqueOrThrow({ ...query, where: { id: invitationId } });
    },
  }),
}));
