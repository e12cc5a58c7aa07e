import { z } from 'zod';
import { launchNode } from '@cic/core/nodes/launch-node';
import { terminateNode } from '@cic/core/nodes/terminate-node';
import { builder } from '../builder.ts';
import { NodeProviderEnum } from './compute-node.ts';
import { auditOf } from './scopes.ts';

const label = { schema: z.string().trim().min(1).max(64).regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits and . _ : - only') };

const LaunchNodeConfigInput = builder.inputType('LaunchNodeConfigInput', {
  description: 'Provider settings, validated by the service. Secrets are passed by name, except a STATIC node\'s apiKey, which is stored encrypted and never returned.',
  fields: (t) => ({
    baseUrl: t.string({ required: false, description: 'STATIC: URL of the running vLLM server (http or https; link-local and cloud metadata addresses are refused unless NODE_ALLOW_LINK_LOCAL_URLS).' }),
    apiKey: t.string({ required: false, description: 'STATIC: the key the server requires (its --api-key); stored encrypted, sent by the proxy and the health checks, never returned. Other nodes get a generated key.' }),
    modelSource: t.string({ required: false, description: 'What vLLM loads (Hugging Face id or path); default the served model name.' }),
    port: t.int({ required: false, description: 'Port vLLM listens on in the cluster; default 8000.' }),
    diskSize: t.int({ required: false, description: 'Boot disk in GB; default 256.' }),
    vllmArgs: t.stringList({ required: false, description: 'Extra `vllm serve` arguments.' }),
    secretEnvNames: t.stringList({ required: false, description: 'Environment variables passed by name from the worker; default ["HF_TOKEN"].' }),
    vllmVersion: t.string({ required: false, description: 'vLLM version installed on the cluster.' }),
  }),
});

const LaunchNodeInput = builder.inputType('LaunchNodeInput', {
  fields: (t) => ({
    model: t.string({ description: 'ServedModel name.', validate: { schema: z.string().min(1).max(200) } }),
    provider: t.field({ type: NodeProviderEnum, required: false, description: 'Default SKYPILOT.' }),
    accelerator: t.string({ required: false, validate: label, description: 'e.g. A100:1 (SkyPilot syntax).' }),
    cloud: t.string({ required: false, validate: label }),
    region: t.string({ required: false, validate: label }),
    config: t.field({ type: LaunchNodeConfigInput, required: false }),
  }),
});

builder.mutationFields((t) => ({
  launchNode: t.prismaField({
    type: 'Node',
    authScopes: { platformAdmin: true },
    description: 'Records a PENDING node and enqueues its launch (node.launch); follow it with nodeStatusChanged/nodeEvents.',
    args: { input: t.arg({ type: LaunchNodeInput }) },
    resolve: async (query, _root, { input }, ctx) => {
      const { apiKey, ...config } = input.config ?? {};
      const node = await launchNode({
        ...auditOf(ctx), prisma: ctx.prisma, queue: ctx.nodeQueue, modelName: input.model, provider: input.provider ?? 'SKYPILOT',
        accelerator: input.accelerator ?? null, cloud: input.cloud ?? null, region: input.region ?? null,
        // GraphQL nulls mean "not set": drop them so the service's defaults apply.
        config: Object.fromEntries(Object.entries(config).filter(([, v]) => v !== null && v !== undefined)),
        apiKey: apiKey ?? null, ...ctx.nodeLaunch,
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
      const node = await terminateNode({ ...auditOf(ctx), prisma: ctx.prisma, bus: ctx.bus, queue: ctx.nodeQueue, nodeId: String(id) });
      ctx.log.info({ nodeId: node.id, status: node.status }, 'node termination enqueued');
      return ctx.prisma.node.findUniqueOrThrow({ ...query, where: { id: node.id } });
    },
  }),
}));
