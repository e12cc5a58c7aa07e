import { createModel } from '@cic/core/models/create-model';
import { setModelEnabled } from '@cic/core/models/set-model-enabled';
import { updateModel } from '@cic/core/models/update-model';
import { builder } from '../builder.ts';

// Validation (names, sources, prices, vLLM arguments, organizations) is the catalog service's
// (core/src/models/model-settings.ts), so the CLI and GraphQL refuse the same things.

const CreateModelInput = builder.inputType('CreateModelInput', {
  fields: (t) => ({
    name: t.string({ description: 'What clients send as `model`, e.g. Qwen/Qwen2.5-7B-Instruct; never changes.' }),
    displayName: t.string({ required: false }),
    description: t.string({ required: false }),
    source: t.string({ required: false, description: 'What vLLM loads: a Hugging Face repo id or an absolute path; default the name.' }),
    maxModelLen: t.int({ required: false, description: 'Context length in tokens; default 4096.' }),
    promptPriceMicros: t.field({ type: 'BigInt', required: false, description: 'Micro-dollars per 1M prompt tokens; default 0.' }),
    completionPriceMicros: t.field({ type: 'BigInt', required: false, description: 'Micro-dollars per 1M completion tokens; default 0.' }),
    accelerator: t.string({ required: false, description: 'SkyPilot accelerators of new nodes, e.g. H100:1.' }),
    vllmVersion: t.string({ required: false, description: 'vLLM version of new nodes; default the node default.' }),
    vllmArgs: t.stringList({ required: false, description: 'Extra `vllm serve` arguments of new nodes, e.g. ["--enable-auto-tool-choice", "--tool-call-parser", "hermes"].' }),
    secretEnvNames: t.stringList({ required: false, description: 'Environment variables new nodes get by name from the worker; default ["HF_TOKEN"].' }),
    isPublic: t.boolean({ required: false, description: 'Default true; false limits the model to organizationIds.' }),
    organizationIds: t.idList({ required: false }),
  }),
});

const UpdateModelInput = builder.inputType('UpdateModelInput', {
  description: 'Omitted fields stay; null clears a nullable one. Prices change with updateModelPrice; the name never changes.',
  fields: (t) => ({
    id: t.id(),
    displayName: t.string({ required: false }),
    description: t.string({ required: false }),
    source: t.string({ required: false }),
    maxModelLen: t.int({ required: false }),
    accelerator: t.string({ required: false }),
    vllmVersion: t.string({ required: false }),
    vllmArgs: t.stringList({ required: false }),
    secretEnvNames: t.stringList({ required: false }),
    isPublic: t.boolean({ required: false }),
    organizationIds: t.idList({ required: false, description: 'Replaces the list of organizations a non-public model is limited to.' }),
  }),
});

/** GraphQL's explicit nulls go to the service, which clears nullable fields and refuses the others; absent fields stay absent. */
const given = <T extends object>(input: T) => Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));

builder.mutationFields((t) => ({
  createModel: t.prismaField({
    type: 'ServedModel',
    description: 'Adds a model to the catalog (platform admins; audited model.create). Launch nodes for it with launchNode.',
    args: { input: t.arg({ type: CreateModelInput }) },
    authScopes: { platformAdmin: true },
    resolve: async (query, _root, { input }, ctx) => {
      const { organizationIds, ...rest } = input;
      const model = await createModel({
        prisma: ctx.prisma, bus: ctx.bus, viewer: ctx.viewer, requestId: ctx.requestId,
        input: { ...given(rest), ...(organizationIds ? { organizationIds: organizationIds.map(String) } : {}) } as Parameters<typeof createModel>[0]['input'],
      });
      ctx.log.info({ modelId: model.id, model: model.name }, 'model created');
      return ctx.prisma.servedModel.findUniqueOrThrow({ ...query, where: { id: model.id } });
    },
  }),
  updateModel: t.prismaField({
    type: 'ServedModel',
    description: "Changes a model's description, source, context length, launch defaults or visibility (platform admins; audited model.update with old and new values). Running nodes keep their settings.",
    args: { input: t.arg({ type: UpdateModelInput }) },
    authScopes: { platformAdmin: true },
    resolve: async (query, _root, { input }, ctx) => {
      const { id, organizationIds, ...rest } = input;
      const { model, changed } = await updateModel({
        prisma: ctx.prisma, bus: ctx.bus, viewer: ctx.viewer, requestId: ctx.requestId, modelId: String(id),
        input: { ...given(rest), ...(organizationIds === undefined ? {} : { organizationIds: organizationIds?.map(String) ?? null }) } as Parameters<typeof updateModel>[0]['input'],
      });
      ctx.log.info({ modelId: model.id, changed }, 'model updated');
      return ctx.prisma.servedModel.findUniqueOrThrow({ ...query, where: { id: model.id } });
    },
  }),
  setModelEnabled: t.prismaField({
    type: 'ServedModel',
    description: 'Enables or disables a model (platform admins; audited model.enable / model.disable). Disabled: not listed, not routed, no new nodes; running nodes stay until terminated.',
    args: { id: t.arg.id(), enabled: t.arg.boolean() },
    authScopes: { platformAdmin: true },
    resolve: async (query, _root, { id, enabled }, ctx) => {
      const { model, changed } = await setModelEnabled({ prisma: ctx.prisma, bus: ctx.bus, viewer: ctx.viewer, requestId: ctx.requestId, modelId: String(id), enabled });
      ctx.log.info({ modelId: model.id, enabled, changed }, 'model enabled state set');
      return ctx.prisma.servedModel.findUniqueOrThrow({ ...query, where: { id: model.id } });
    },
  }),
}));
