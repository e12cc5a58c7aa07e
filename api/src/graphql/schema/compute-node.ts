import { NODE_STATUSES } from '@cic/core/nodes/node-status-groups';
import { builder } from '../builder.ts';

export const NodeStatusEnum = builder.enumType('NodeStatus', {
  values: NODE_STATUSES,
});
export const NodeProviderEnum = builder.enumType('NodeProvider', { values: ['SKYPILOT', 'LOCAL', 'STATIC'] as const });
const NodeEventKindEnum = builder.enumType('NodeEventKind', { values: ['TRANSITION', 'LOG', 'HEALTH'] as const });

/** Only platform admins see nodes: what members need (model availability) is on `Model`. */
const adminOnly = (id: string, isAdmin: boolean) => (isAdmin ? { id } : { id, AND: [{ id: { in: [] } }] });

export const ComputeNodeRef = builder.prismaNode('Node', {
  name: 'ComputeNode',
  description: 'A GPU (or simulated) node serving one model (platform admins).',
  id: { field: 'id' },
  findUnique: (id, ctx) => adminOnly(id, ctx.viewer.kind === 'user' && ctx.viewer.isPlatformAdmin),
  authScopes: { platformAdmin: true },
  fields: (t) => ({
    status: t.expose('status', { type: NodeStatusEnum }),
    statusReason: t.exposeString('statusReason', { nullable: true }),
    provider: t.expose('provider', { type: NodeProviderEnum }),
    clusterName: t.exposeString('clusterName'),
    accelerator: t.exposeString('accelerator', { nullable: true }),
    cloud: t.exposeString('cloud', { nullable: true }),
    region: t.exposeString('region', { nullable: true }),
    endpointUrl: t.exposeString('endpointUrl', { nullable: true }),
    runningRequests: t.exposeInt('runningRequests'),
    waitingRequests: t.exposeInt('waitingRequests'),
    kvCacheUsage: t.exposeFloat('kvCacheUsage'),
    healthFailures: t.exposeInt('healthFailures'),
    lastHealthAt: t.expose('lastHealthAt', { type: 'DateTime', nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    readyAt: t.expose('readyAt', { type: 'DateTime', nullable: true }),
    terminatedAt: t.expose('terminatedAt', { type: 'DateTime', nullable: true }),
    model: t.relation('model'),
    events: t.relatedConnection('events', {
      cursor: 'id',
      description: 'Transitions, log lines and health changes, newest first.',
      query: { orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] },
    }),
  }),
});

export const NodeEventRef = builder.prismaNode('NodeEvent', {
  id: { field: 'id' },
  findUnique: (id, ctx) => (ctx.viewer.kind === 'user' && ctx.viewer.isPlatformAdmin ? { id } : { id, AND: [{ id: { in: [] } }] }),
  authScopes: { platformAdmin: true },
  fields: (t) => ({
    nodeId: t.exposeString('nodeId'),
    kind: t.expose('kind', { type: NodeEventKindEnum }),
    fromStatus: t.expose('fromStatus', { type: NodeStatusEnum, nullable: true }),
    toStatus: t.expose('toStatus', { type: NodeStatusEnum, nullable: true }),
    message: t.exposeString('message'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.queryField('nodes', (t) =>
  t.prismaConnection({
    type: 'Node',
    cursor: 'id',
    authScopes: { platformAdmin: true },
    description: 'All nodes, newest first (platform admins).',
    args: { status: t.arg({ type: [NodeStatusEnum], required: false, description: 'Only these statuses.' }) },
    resolve: (query, _root, args, ctx) =>
      ctx.prisma.node.findMany({ ...query, where: args.status ? { status: { in: args.status } } : {}, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] }),
  }),
);
