import { z } from 'zod';
import { AppError } from '@cic/core/errors';
import { createApiKey } from '@cic/core/api-keys/create-api-key';
import { API_KEY_SCOPES, type ApiKeyScope } from '@cic/core/api-keys/key-action-options';
import { MAX_ALLOWED_MODELS, MAX_BUDGET_MICROS } from '@cic/core/api-keys/key-spend-controls';
import { revokeApiKey } from '@cic/core/api-keys/revoke-api-key';
import { rotateApiKey } from '@cic/core/api-keys/rotate-api-key';
import { updateApiKeyLimits } from '@cic/core/api-keys/update-api-key-limits';
import { updateApiKeySpendControls } from '@cic/core/api-keys/update-api-key-spend-controls';
import { builder } from '../builder.ts';
import { ApiKeySecretPayload } from './api-key.ts';
import { auditOf, manageApiKeyScope, manageOrganizationScope } from './scopes.ts';

const limit = { schema: z.number().int().min(1).max(100_000_000) };
const budget = { schema: z.bigint().min(0n, 'a budget cannot be negative').max(MAX_BUDGET_MICROS, 'at most 1,000,000 USD (1,000,000,000,000 micro-dollars)') };
const modelNames = { schema: z.array(z.string().trim().min(1).max(256)).max(MAX_ALLOWED_MODELS) };
const DAILY_BUDGET = 'Micro-dollars per UTC day (1 USD = 1000000); null = no daily budget.';
const MONTHLY_BUDGET = 'Micro-dollars per UTC calendar month; null = no monthly budget.';
const ALLOWED_MODELS = 'Models the key may call (names the organization may call); empty = all of them.';

const CreateApiKeyInput = builder.inputType('CreateApiKeyInput', {
  fields: (t) => ({
    organizationId: t.id(),
    name: t.string({ validate: { schema: z.string().trim().min(1, 'give the key a name').max(100) } }),
    scopes: t.stringList({
      required: false,
      description: `Any of ${API_KEY_SCOPES.join(', ')}; default inference.`,
      validate: { schema: z.array(z.enum(API_KEY_SCOPES)).min(1).max(API_KEY_SCOPES.length) },
    }),
    rpmLimit: t.int({ required: false, validate: limit, description: "At most the organization's ceiling (Organization.rateLimits); null = the organization's default." }),
    tpmLimit: t.int({ required: false, validate: limit, description: "At most the organization's ceiling (Organization.rateLimits); null = the organization's default." }),
    expiresAt: t.field({ type: 'DateTime', required: false }),
    dailyBudgetMicros: t.field({ type: 'BigInt', required: false, validate: budget, description: DAILY_BUDGET }),
    monthlyBudgetMicros: t.field({ type: 'BigInt', required: false, validate: budget, description: MONTHLY_BUDGET }),
    allowedModels: t.stringList({ required: false, validate: modelNames, description: ALLOWED_MODELS }),
  }),
});

const UpdateApiKeySpendControlsInput = builder.inputType('UpdateApiKeySpendControlsInput', {
  description: 'Omitted fields stay as they are.',
  fields: (t) => ({
    id: t.id(),
    dailyBudgetMicros: t.field({ type: 'BigInt', required: false, validate: budget, description: DAILY_BUDGET }),
    monthlyBudgetMicros: t.field({ type: 'BigInt', required: false, validate: budget, description: MONTHLY_BUDGET }),
    allowedModels: t.stringList({ required: false, validate: modelNames, description: `${ALLOWED_MODELS} null = unchanged.` }),
  }),
});

const UpdateApiKeyLimitsInput = builder.inputType('UpdateApiKeyLimitsInput', {
  fields: (t) => ({
    id: t.id(),
    rpmLimit: t.int({ required: false, validate: limit, description: "At most the organization's ceiling; null = the organization's default; omitted = unchanged." }),
    tpmLimit: t.int({ required: false, validate: limit, description: "At most the organization's ceiling; null = the organization's default; omitted = unchanged." }),
  }),
});

builder.mutationFields((t) => ({
  createApiKey: t.field({
    type: ApiKeySecretPayload,
    description: 'Creates a key (owners/admins). The secret is in the answer once; only its hash is stored.',
    args: { input: t.arg({ type: CreateApiKeyInput }) },
    authScopes: (_root, { input }, ctx) => manageOrganizationScope(ctx, String(input.organizationId)),
    resolve: async (_root, { input }, ctx) => {
      if (input.expiresAt && input.expiresAt.getTime() <= Date.now()) throw new AppError('BAD_REQUEST', '`expiresAt` must be in the future.', { param: 'expiresAt' });
      const { apiKey, secret } = await createApiKey({
        ...auditOf(ctx), prisma: ctx.prisma, bus: ctx.bus, organizationId: String(input.organizationId), name: input.name.trim(),
        scopes: (input.scopes ?? undefined) as ApiKeyScope[] | undefined, rpmLimit: input.rpmLimit ?? null, tpmLimit: input.tpmLimit ?? null, expiresAt: input.expiresAt ?? null,
        dailyBudgetMicros: input.dailyBudgetMicros ?? null, monthlyBudgetMicros: input.monthlyBudgetMicros ?? null, allowedModels: input.allowedModels ?? [],
        platformLimits: ctx.rateLimits,
      });
      ctx.log.info({ keyId: apiKey.id, organizationId: apiKey.organizationId }, 'api key created');
      return { secret, apiKeyId: apiKey.id };
    },
  }),
  revokeApiKey: t.prismaField({
    type: 'ApiKey',
    description: 'Revokes a key at once on every API instance (idempotent).',
    args: { id: t.arg.id() },
    authScopes: (_root, { id }, ctx) => manageApiKeyScope(ctx, String(id)),
    resolve: async (query, _root, { id }, ctx) => {
      await revokeApiKey({ ...auditOf(ctx), prisma: ctx.prisma, bus: ctx.bus, keyId: String(id) });
      ctx.log.info({ keyId: id }, 'api key revoked');
      return ctx.prisma.apiKey.findUniqueOrThrow({ ...query, where: { id: String(id) } });
    },
  }),
  rotateApiKey: t.field({
    type: ApiKeySecretPayload,
    description: "Replaces a key by a new one (same name, scopes, limits; a limit above the organization's ceiling becomes the ceiling) and revokes the old one.",
    args: { id: t.arg.id() },
    authScopes: (_root, { id }, ctx) => manageApiKeyScope(ctx, String(id)),
    resolve: async (_root, { id }, ctx) => {
      const { apiKey, secret } = await rotateApiKey({ ...auditOf(ctx), prisma: ctx.prisma, bus: ctx.bus, keyId: String(id), platformLimits: ctx.rateLimits });
      ctx.log.info({ keyId: id, newKeyId: apiKey.id }, 'api key rotated');
      return { secret, apiKeyId: apiKey.id };
    },
  }),
  updateApiKeyLimits: t.prismaField({
    type: 'ApiKey',
    args: { input: t.arg({ type: UpdateApiKeyLimitsInput }) },
    authScopes: (_root, { input }, ctx) => manageApiKeyScope(ctx, String(input.id)),
    resolve: async (query, _root, { input }, ctx) => {
      const keyId = String(input.id);
      await updateApiKeyLimits({ ...auditOf(ctx), prisma: ctx.prisma, bus: ctx.bus, keyId, rpmLimit: input.rpmLimit, tpmLimit: input.tpmLimit, platformLimits: ctx.rateLimits });
      return ctx.prisma.apiKey.findUniqueOrThrow({ ...query, where: { id: keyId } });
    },
  }),
  updateApiKeySpendControls: t.prismaField({
    type: 'ApiKey',
    description: "Sets a key's daily/monthly budgets and allowed models (owners/admins; audited). Every API instance applies them at once.",
    args: { input: t.arg({ type: UpdateApiKeySpendControlsInput }) },
    authScopes: (_root, { input }, ctx) => manageApiKeyScope(ctx, String(input.id)),
    resolve: async (query, _root, { input }, ctx) => {
      const keyId = String(input.id);
      await updateApiKeySpendControls({
        ...auditOf(ctx), prisma: ctx.prisma, bus: ctx.bus, keyId,
        dailyBudgetMicros: input.dailyBudgetMicros, monthlyBudgetMicros: input.monthlyBudgetMicros, allowedModels: input.allowedModels ?? undefined,
      });
      ctx.log.info({ keyId }, 'api key spend controls updated');
      return ctx.prisma.apiKey.findUniqueOrThrow({ ...query, where: { id: keyId } });
    },
  }),
}));
