import { ROUTABLE_STATUSES } from '@cic/core/nodes/node-status-groups';
import { builder } from '../builder.ts';

const routable = { status: { in: [...ROUTABLE_STATUSES] } };

/**
 * A served model and its prices. Everyone authenticated sees models (with how many nodes serve them);
 * node internals (endpoints, clusters) are for platform admins only.
 */
builder.prismaNode('ServedModel', {
  name: 'Model',
  id: { field: 'id' },
  authScopes: { authenticated: true },
  fields: (t) => ({
    name: t.exposeString('name', { description: 'What to send as `model` on /v1.' }),
    displayName: t.exposeString('displayName', { nullable: true }),
    description: t.exposeString('description', { nullable: true }),
    maxModelLen: t.exposeInt('maxModelLen', { description: 'Context length in tokens.' }),
    enabled: t.exposeBoolean('enabled'),
    promptPriceMicros: t.expose('promptPriceMicros', { type: 'BigInt', description: 'Micro-dollars per 1M prompt tokens.' }),
    completionPriceMicros: t.expose('completionPriceMicros', { type: 'BigInt', description: 'Micro-dollars per 1M completion tokens.' }),
    readyNodes: t.relationCount('nodes', { where: routable, description: 'Nodes serving it now (0 = requests get 503).' }),
    available: t.boolean({
      select: { _count: { select: { nodes: { where: routable } } } },
      resolve: (m) => m.enabled && m._count.nodes > 0,
    }),
  }),
});

builder.queryField('models', (t) =>
  t.prismaField({
    type: ['ServedModel'],
    authScopes: { authenticated: true },
    description: 'Served models with prices and availability (disabled ones only for platform admins).',
    resolve: (query, _root, _args, ctx) =>
      ctx.prisma.servedModel.findMany({
        ...query,
        where: ctx.viewer.kind === 'user' && ctx.viewer.isPlatformAdmin ? {} : { enabled: true },
        orderBy: { name: 'asc' },
      }),
  }),
);
