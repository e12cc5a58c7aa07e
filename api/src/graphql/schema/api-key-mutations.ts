import { z } from 'zod';
import { AppError } from '@cic/core/errors';
import { createApiKey } from '@cic/core/api-keys/create-api-key';
import { API_KEY_SCOPES, type ApiKeyScope } from '@cic/core/api-keys/key-action-options';
import { revokeApiKey } from '@cic/core/api-keys/revoke-api-key';
import { rotateApiKey } from '@cic/core/api-keys/rotate-api-key';
import { updateApiKeyLimits } from '@cic/core/api-keys/update-api-key-limits';
import { builder } from '../builder.ts';
import { ApiKeySecretPayload } from './api-key.ts';
import { auditOf, manageApiKeyScope, manageOrganizationScope } from './scopes.ts';

const limit = { schema: z.number().int().min(1).max(100_000_000) };

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
}));
