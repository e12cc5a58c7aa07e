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
