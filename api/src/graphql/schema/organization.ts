import { roleIn } from '@cic/core/auth/viewer';
import { builder } from '../builder.ts';
import { OrgRoleEnum } from './scalars.ts';
import { readableOrganizations } from './tenant.ts';

export const OrganizationRef = builder.prismaNode('Organization', {
  id: { field: 'id' },
  findUnique: (id, ctx) => ({ id, AND: [readableOrganizations(ctx.viewer)] }),
  authScopes: (org) => ({ orgMember: org.id }),
  fields: (t) => ({
    name: t.exposeString('name'),
    slug: t.exposeString('slug'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    frozenAt: t.expose('frozenAt', { type: 'DateTime', nullable: true, description: 'Set when billing froze the organization (inference answers 402).' }),
    frozenReason: t.exposeString('frozenReason', { nullable: true }),
    viewerRole: t.field({
      type: OrgRoleEnum,
      nullable: true,
      description: "The caller's role here (API keys act as MEMBER; null for platform admins who are not members).",
      resolve: (org, _args, ctx) => roleIn(ctx.viewer, org.id),
    }),
    members: t.relation('memberships', {
      description: 'Members: people who accepted an invitation (or created the organization). Pending invitees are not members.',
      query: { orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] },
    }),
    invitations: t.relation('invitations', {
      description: 'Invitations not cancelled, newest first, whatever their status (owners and admins; null with an error for others).',
      nullable: true,
      authScopes: (org) => ({ orgAdmin: org.id }),
      query: { orderBy: { createdAt: 'desc' }, take: 100 },
    }),
    apiKeys: t.relatedConnection('apiKeys', {
      cursor: 'id',
      query: { orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] },
      totalCount: true,
    }),
    billing: t.relation('billingAccount', { nullable: true, description: 'Null until billing opened an account for the organization.' }),
  }),
});

builder.queryFields((t) => ({
  organization: t.prismaField({
    type: 'Organization',
    nullable: true,
    authScopes: { authenticated: true },
    description: 'An organization the caller can see; without `id`, the selected one (x-organization-id header, else the first membership). Another tenant\'s id answers null.',
    args: { id: t.arg.id({ required: false }) },
    resolve: (query, _root, args, ctx) => {
      const id = args.id ? String(args.id) : ctx.viewer.selectedOrganizationId;
      if (!id) return null;
      return ctx.prisma.organization.findFirst({ ...query, where: { id, AND: [readableOrganizations(ctx.viewer)] } });
    },
  }),
  organizations: t.prismaConnection({
    type: 'Organization',
    cursor: 'id',
    authScopes: { authenticated: true },
    description: 'Organizations the caller can see: all of them for platform admins.',
    resolve: (query, _root, _args, ctx) =>
      ctx.prisma.organization.findMany({ ...query, where: readableOrganizations(ctx.viewer), orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] }),
  }),
}));
