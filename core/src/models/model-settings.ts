import { z } from 'zod';
import { nodeConfigSchema, nodeLabelSchema, taskValueSchema } from '../nodes/node-config.ts';

/** 1,000 USD per million tokens: a typo guard on prices, not a business limit. */
export const MAX_PRICE_MICROS = 1_000n * 1_000_000n;

// One part of a served name or a source: starts with a letter or digit, so `.` and `..` never pass.
const PART = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const parts = (value: string) => value.split('/');

/** What clients send as `model` and vLLM serves (`--served-model-name`), e.g. `Qwen/Qwen2.5-7B-Instruct`. */
export const modelNameSchema = z.string().max(128, 'at most 128 characters').refine(
  (name) => parts(name).length <= 3 && parts(name).every((p) => PART.test(p)),
  'letters, digits and . _ - in up to three /-separated parts, each starting with a letter or digit (e.g. Qwen/Qwen2.5-7B-Instruct)',
);

/**
 * What vLLM loads: a Hugging Face repo id (`org/name`) or an absolute path on the node (`/models/qwen`); also
 * a value the node config accepts as its source.
 */
export const modelSourceSchema = taskValueSchema.refine((source) => {
  const rest = source.startsWith('/') ? source.slice(1) : source;
  return parts(rest).length <= 16 && parts(rest).every((p) => PART.test(p));
}, 'a Hugging Face repo id (org/name) or an absolute path, of letters, digits and . _ - between slashes');

const price = z.bigint().min(0n, 'a price cannot be negative').max(MAX_PRICE_MICROS, 'at most 1,000 USD (1,000,000,000 micro-dollars) per million tokens');
const text = (max: number) => z.string().trim().min(1).max(max).nullable();

/**
 * A model's catalog entry as platform admins set it. The launch defaults reuse the node config's own
 * rules (node-config.ts: allow-lists for vLLM arguments, env names, labels), so a model never carries a
 * setting a launch would refuse.
 */
const modelFields = {
  displayName: text(200),
  description: text(2000),
  source: modelSourceSchema.nullable(),
  /** Context length in tokens (vLLM's `max_model_len`). */
  maxModelLen: z.number().int().min(16).max(10_000_000),
  /** SkyPilot accelerators for new nodes, e.g. `H100:1`. */
  accelerator: nodeLabelSchema.nullable(),
  vllmVersion: nodeConfigSchema.shape.vllmVersion.unwrap().nullable(),
  vllmArgs: nodeConfigSchema.shape.vllmArgs.unwrap(),
  secretEnvNames: nodeConfigSchema.shape.secretEnvNames.unwrap(),
  isPublic: z.boolean(),
  /** The organizations a non-public model is limited to. */
  organizationIds: z.array(z.string().min(1).max(64)).max(500).transform((ids) => [...new Set(ids)]),
};

export const createModelSchema = z.object({
  name: modelNameSchema,
  ...modelFields,
  displayName: modelFields.displayName.default(null),
  description: modelFields.description.default(null),
  source: modelFields.source.default(null),
  maxModelLen: modelFields.maxModelLen.default(4096),
  accelerator: modelFields.accelerator.default(null),
  vllmVersion: modelFields.vllmVersion.default(null),
  vllmArgs: modelFields.vllmArgs.default([]),
  secretEnvNames: modelFields.secretEnvNames.default(['HF_TOKEN']),
  isPublic: modelFields.isPublic.default(true),
  organizationIds: modelFields.organizationIds.default([]),
  promptPriceMicros: price.default(0n),
  completionPriceMicros: price.default(0n),
}).strict();

/** Every field optional: omitted = unchanged; null clears a nullable one. The name never changes (nodes serve it). */
export const updateModelSchema = z.object(modelFields).partial().strict();

export type CreateModelInput = z.input<typeof createModelSchema>;
export type UpdateModelInput = z.input<typeof updateModelSchema>;
