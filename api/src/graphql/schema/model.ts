import type { Prisma } from '@cic/db';
import { isPlatformAdmin, type Viewer } from '@cic/core/auth/viewer';
import { visibleModelsWhere } from '@cic/core/models/model-visibility';
import { ROUTABLE_STATUSES } from '@cic/core/nodes/node-status-groups';
import { builder } from '../builder.ts';
import { OrganizationRef } from './organization.ts';

const routable = { status: { in: [...ROUTABLE_STATUSES] } };

/** The models a viewer may see: all for platform admins; else enabled ones public or limited to the selected organization. */
const visibleModels = (viewer: Viewer): Prisma.ServedModelWhereInput =>
  isPlatformAdmin(viewer) ? {} : visibleModelsWhere(viewer.selectedOrganizationId);

const adminOnly = { authScopes: { platformAdmin: true }, nullable: true } as const;

/**
 * A served model and its prices. Members see the models their organization may call (with how many nodes
 * serve them); launch defaults, visibility lists and node internals are for platform admins only.
 */
builder.prismaNode('ServedModel', {
  name: 'Model',
  id: { field: 'id' },
  findUnique: (id, ctx) => ({ id, AND: [visibleModels(ctx.viewer)] }),
  authScopes: { authenticated: true },
  fields: (t) => ({
    name: t.exposeString('name', { description: 'What to send as `model` on /v1 (vLLM serves it as --served-model-name).' }),
    displayName: t.exposeString('displayName', { nullable: true }),
    description: t.exposeString('description', { nullable: true }),
    source: t.exposeString('source', { nullable: true, description: 'What vLLM loads: a Hugging Face repo id or a path (null = the name).' }),
    maxModelLen: t.exposeInt('maxModelLen', { description: 'Context length in tokens.' }),
    enabled: t.exposeBoolean('enabled'),
    isPublic: t.exposeBoolean('isPublic', { description: 'False: listed and served only to `organizations`.' }),
    promptPriceMicros: t.expose('promptPriceMicros', { type: 'BigInt', description: 'Micro-dollars per 1M prompt tokens.' }),
    completionPriceMicros: t.expose('completionPriceMicros', { type: 'BigInt', description: 'Micro-dollars per 1M completion tokens.' }),
    accelerator: t.exposeString('accelerator', { ...adminOnly, description: 'New nodes\' SkyPilot accelerators, e.g. H100:1 (platform admins).' }),
    vllmVersion: t.exposeString('vllmVersion', { ...adminOnly, description: 'vLLM version new nodes install; null = the node default (platform admins).' }),
    vllmArgs: t.exposeStringList('vllmArgs', { ...adminOnly, description: 'Extra `vllm serve` arguments of new nodes (platform admins).' }),
    secretEnvNames: t.exposeStringList('secretEnvNames', { ...adminOnly, description: 'Environment variables new nodes get by name from the worker (platform admins).' }),
    organizations: t.field({
      type: [OrganizationRef],
      ...adminOnly,
      description: 'The organizations a non-public model is limited to (platform admins).',
      select: { access: { select: { organization: true }, orderBy: { createdAt: 'asc' } } },
      resolve: (m) => m.access.map((a) => a.organization),
    }),
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
    description: 'Models with prices and availability: for platform admins all of them; for others the enabled ones that are public or limited to their selected organization.',
    resolve: (query, _root, _args, ctx) => ctx.prisma.servedModel.findMany({ ...query, where: visibleModels(ctx.viewer), orderBy: { name: 'asc' } }),
  }),
);
