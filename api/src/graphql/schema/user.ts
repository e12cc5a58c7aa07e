import { builder } from '../builder.ts';

/**
 * A person. Visible to themselves, to members of an organization they belong to (member lists) and to
 * platform admins; `user(id)` by global id applies the same rule.
 */
builder.prismaNode('User', {
  id: { field: 'id' },
  findUnique: (id, ctx) => {
    const v = ctx.viewer;
    if (v.kind === 'user' && v.isPlatformAdmin) return { id };
    if (v.kind === 'user') return { id, OR: [{ id: v.userId }, { memberships: { some: { organization: { memberships: { some: { userId: v.userId } } } } } }] };
    if (v.kind === 'apiKey') return { id, memberships: { some: { organizationId: v.organizationId } } };
    return { id, AND: [{ id: { in: [] } }] };
  },
  authScopes: { authenticated: true },
  fields: (t) => ({
    email: t.exposeString('email'),
    name: t.exposeString('name', { nullable: true }),
    image: t.exposeString('image', { nullable: true }),
    isPlatformAdmin: t.exposeBoolean('isPlatformAdmin'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});
