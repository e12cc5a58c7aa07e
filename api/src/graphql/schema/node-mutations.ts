import { z } from 'zod';
import { launchNode } from '../../services/nodes/launch-node.ts';
import { terminateNode } from '../../services/nodes/terminate-node.ts';
import { builder } from '../builder.ts';
import { NodeProviderEnum } from './compute-node.ts';
import { auditOf } from './scopes.ts';

const label = { schema: z.string().trim().min(1).max(64).regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits and . _ : - only') };

const LaunchNodeInput = builder.inputType('LaunchNodeInput', {
  fields: (t) => ({
    model: t.string({ description: 'ServedModel name.', validate: { schema: z.string().min(1).max(200) } }),
    provider: t.field({ type: NodeProviderEnum, required: false, description: 'Default SKYPILOT.' }),
    accelerator: t.string({ required: false, validate: label, description: 'e.g. A100:1 (SkyPilot syntax).' }),
    cloud: t.string({ required: false, validate: label }),
    region: t.string({ required: false, validate: label }),
  }),
});

builder.mutationFields((t) => ({
  launchNode: t.prismaField({
    type: 'Node',
    authScopes: { platformAdmin: true },
    description: 'Records a PENDING node and enqueues its launch (node.launch); follow it with nodeStatusChanged/nodeEvents.',
    args: { input: t.arg({ type: LaunchNodeInput }) },
    resolve: async (query, _root, { input }, ctx) => {
      const node = await launchNode({
        ...auditOf(ctx), prisma: ctx.prisma, queue: ctx.nodeQueue, modelName: input.model, provider: input.provider ?? 'SKYPILOT',
        accelerator: input.accelerator ?? null, cloud: input.cloud ?? null, region: input.region ?? null,
      });
      ctx.log.info({ nodeId: node.id, model: input.model }, 'node launch enqueued');
      return ctx.prisma.node.findUniqueOrThrow({ ...query, where: { id: node.id } });
    },
  }),
  terminateNode: t.prismaField({
    type: 'Node',
    authScopes: { platformAdmin: true },
    description: 'Drains a serving node (else terminates at once) and enqueues node.terminate.',
    args: { id: t.arg.id() },
    resolve: async (query, _root, { id }, ctx) => {
      const node = await terminateNode({ ...auditOf(ctx), prisma: ctx.prisma, redis: ctx.redis, queue: ctx.nodeQueue, nodeId: String(id) });
      ctx.log.info({ nodeId: node.id, status: node.status }, 'node termination enqueued');
      return ctx.prisma.node.findUniqueOrThrow({ ...query, where: { id: node.id } });
    },
  }),
}));
