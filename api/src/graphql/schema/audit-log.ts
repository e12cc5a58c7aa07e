import type { Prisma } from '@cic/db';
import { z } from 'zod';
import { builder } from '../builder.ts';
import { readableOrganizations } from './tenant.ts';

const ActorTypeEnum = builder.enumType('ActorType', { values: ['USER', 'API_KEY', 'SYSTEM'] as const });

builder.prismaNode('AuditLog', {
  name: 'AuditLogEntry',
  id: { field: 'id' },
  findUnique: (id, ctx) =>
    ctx.viewer.kind === 'user' && ctx.viewer.isPlatformAdmin ? { id } : { id, organization: auditableOrganizations(ctx.viewer) },
  authScopes: (e) => (e.organizationId ? { platformAdmin: true, orgAdmin: e.organizationId } : { platformAdmin: true }),
  fields: (t) => ({
    actorType: t.expose('actorType', { type: ActorTypeEnum }),
    actorId: t.exposeString('actorId'),
    actor: t.prismaField({
      type: 'User',
      nullable: true,
      description: 'The person who acted (USER entries), so the log can name them; null for keys, the system, or a deleted user.',
      // Prisma batches the findUnique calls of one page into one query (see query-count.test.ts).
      resolve: (query, e, _args, ctx) => (e.actorType === 'USER' ? ctx.prisma.user.findUnique({ ...query, where: { id: e.actorId } }) : null),
    }),
    action: t.exposeString('action', { description: 'e.g. api_key.revoke, node.launch, member.invite.' }),
    organizationId: t.exposeString('organizationId', { nullable: true }),
    targetType: t.exposeString('targetType', { nullable: true }),
    targetId: t.exposeString('targetId', { nullable: true }),
    requestId: t.exposeString('requestId', { nullable: true }),
    metadata: t.string({ description: 'JSON text.', resolve: (e) => JSON.stringify(e.metadata) }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

/** Organizations whose audit log the viewer may read: those it administers (platform admins: all). */
function auditableOrganizations(viewer: Parameters<typeof readableOrganizations>[0]): Prisma.OrganizationWhereInput {
  if (viewer.kind !== 'user') return { id: { in: [] } };
  if (viewer.isPlatformAdmin) return {};
  return { memberships: { some: { userId: viewer.userId, role: { in: ['OWNER', 'ADMIN'] } } } };
}

builder.queryField('auditLog', (t) =>
  t.prismaConnection({
    type: 'AuditLog',
    cursor: 'id',
    authScopes: { user: true },
    description: 'Audit entries, newest first: platform admins see all; owners/admins their organizations\' entries.',
    args: {
      organizationId: t.arg.id({ required: false }),
      action: t.arg.string({ required: false }),
      actorId: t.arg.string({ required: false }),
      actorEmail: t.arg.string({
        required: false,
        description: "Only what the user with this email did (case-insensitive); no such user: no entries.",
        validate: { schema: z.string().trim().min(3).max(320) },
      }),
      from: t.arg({ type: 'DateTime', required: false }),
      to: t.arg({ type: 'DateTime', required: false }),
    },
    resolve: async (query, _root, args, ctx) => {
      const byEmail = args.actorEmail
        ? (await ctx.prisma.user.findMany({ where: { email: { equals: args.actorEmail.trim(), mode: 'insensitive' } }, select: { id: true } })).map((u) => u.id)
        : null;
      const where: Prisma.AuditLogWhereInput = {
        ...(args.action ? { action: args.action } : {}),
        ...(args.actorId ? { actorId: args.actorId } : {}),
        ...(args.organizationId ? { organizationId: String(args.organizationId) } : {}),
        ...(args.from || args.to ? { createdAt: { ...(args.from ? { gte: args.from } : {}), ...(args.to ? { lt: args.to } : {}) } } : {}),
      };
      const scope: Prisma.AuditLogWhereInput = ctx.viewer.kind === 'user' && ctx.viewer.isPlatformAdmin ? {} : { organization: auditableOrganizations(ctx.viewer) };
      const actor: Prisma.AuditLogWhereInput = byEmail ? { actorType: 'USER', actorId: { in: byEmail } } : {};
      return ctx.prisma.auditLog.findMany({ ...query, where: { AND: [where, actor, scope] }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] });
    },
  }),
);
