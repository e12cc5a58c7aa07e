import { builder } from '../builder.ts';
import { OrgRoleEnum } from './scalars.ts';
import { readableOrganizations } from './tenant.ts';

builder.prismaNode('Membership', {
  id: { field: 'id' },
  findUnique: (id, ctx) => ({ id, organization: readableOrganizations(ctx.viewer) }),
  authScopes: (m) => ({ orgMember: m.organizationId }),
  fields: (t) => ({
    role: t.expose('role', { type: OrgRoleEnum }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    user: t.relation('user'),
    organization: t.relation('organization'),
  }),
});

builder.prismaNode('Invitation', {
  id: { field: 'id' },
  findUnique: (id, ctx) => ({ id, organization: readableOrganizations(ctx.viewer) }),
  authScopes: (inv) => ({ orgAdmin: inv.organizationId }),
  fields: (t) => ({
    email: t.exposeString('email'),
    role: t.expose('role', { type: OrgRoleEnum }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
    acceptedAt: t.expose('acceptedAt', { type: 'DateTime', nullable: true, description: 'Set at once when the invited email already had an account.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    organization: t.relation('organization'),
  }),
});
