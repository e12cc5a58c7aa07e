import type { Viewer } from '@cic/core/auth/viewer';
import { roleIn } from '@cic/core/auth/viewer';
import { pendingInvitationsOf } from '@cic/core/organizations/invitation-status';
import { builder } from '../builder.ts';
import { ReceivedInvitationRef } from './invitation.ts';
import { OrgRoleEnum } from './scalars.ts';
import { readableOrganizations } from './tenant.ts';

const ViewerKindEnum = builder.enumType('ViewerKind', { values: ['USER', 'API_KEY'] as const });

type AuthenticatedViewer = Exclude<Viewer, { kind: 'anonymous' }>;

/** Who is calling: a dashboard user, or an API key acting for its organization. */
const ViewerRef = builder.objectRef<AuthenticatedViewer>('Viewer').implement({
  fields: (t) => ({
    kind: t.field({ type: ViewerKindEnum, resolve: (v) => (v.kind === 'user' ? 'USER' : 'API_KEY') }),
    id: t.id({ description: 'usr_… or key_….', resolve: (v) => (v.kind === 'user' ? v.userId : v.keyId) }),
    user: t.prismaField({
      type: 'User',
      nullable: true,
      description: 'Null for API keys.',
      resolve: (query, v, _args, ctx) => (v.kind === 'user' ? ctx.prisma.user.findUnique({ ...query, where: { id: v.userId } }) : null),
    }),
    email: t.string({ nullable: true, resolve: async (v, _a, ctx) => (v.kind === 'user' ? ((await ctx.prisma.user.findUnique({ where: { id: v.userId }, select: { email: true } }))?.email ?? null) : null) }),
    name: t.string({ nullable: true, resolve: async (v, _a, ctx) => (v.kind === 'user' ? ((await ctx.prisma.user.findUnique({ where: { id: v.userId }, select: { name: true } }))?.name ?? null) : null) }),
    isPlatformAdmin: t.boolean({ resolve: (v) => v.kind === 'user' && v.isPlatformAdmin }),
    memberships: t.prismaField({
      type: ['Membership'],
      description: "The user's memberships, oldest first (empty for API keys).",
      resolve: (query, v, _args, ctx) =>
        v.kind === 'user' ? ctx.prisma.membership.findMany({ ...query, where: { userId: v.userId }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] }) : [],
    }),
    invitations: t.prismaField({
      type: [ReceivedInvitationRef],
      description: "Invitations to the user's email still open to accept or decline, newest first (empty for API keys).",
      resolve: async (query, v, _args, ctx) => {
        if (v.kind !== 'user') return [];
        const user = await ctx.prisma.user.findUnique({ where: { id: v.userId }, select: { email: true } });
        if (!user) return [];
        return ctx.prisma.invitation.findMany({ ...query, where: pendingInvitationsOf(user.email), orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: 100 });
      },
    }),
    organizations: t.prismaField({
      type: ['Organization'],
      description: 'Organizations the caller belongs to (an API key: its own).',
      resolve: (query, v, _args, ctx) =>
        ctx.prisma.organization.findMany({
          ...query,
          where: v.kind === 'user' ? { memberships: { some: { userId: v.userId } } } : readableOrganizations(v),
          orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
        }),
    }),
    organization: t.prismaField({
      type: 'Organization',
      nullable: true,
      description: 'The selected organization (x-organization-id header, else the first membership).',
      resolve: (query, v, _args, ctx) =>
        v.selectedOrganizationId
          ? ctx.prisma.organization.findFirst({ ...query, where: { id: v.selectedOrganizationId, AND: [readableOrganizations(v)] } })
          : null,
    }),
    role: t.field({
      type: OrgRoleEnum,
      nullable: true,
      description: 'Role in the selected organization.',
      resolve: (v) => (v.selectedOrganizationId ? roleIn(v, v.selectedOrganizationId) : null),
    }),
  }),
});

builder.queryField('viewer', (t) =>
  t.field({
    type: ViewerRef,
    authScopes: { authenticated: true },
    resolve: (_root, _args, ctx) => ctx.viewer as AuthenticatedViewer,
  }),
);
