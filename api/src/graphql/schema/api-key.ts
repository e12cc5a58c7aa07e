import { builder } from '../builder.ts';
import { readableOrganizations } from './tenant.ts';

/** An API key's metadata; the secret exists only in the create/rotate payload, once. */
export const ApiKeyRef = builder.prismaNode('ApiKey', {
  id: { field: 'id' },
  findUnique: (id, ctx) => ({ id, organization: readableOrganizations(ctx.viewer) }),
  authScopes: (key) => ({ orgMember: key.organizationId }),
  fields: (t) => ({
    name: t.exposeString('name'),
    prefix: t.exposeString('prefix', { description: 'The public part of the key (cic_<prefix>_…), to recognise it.' }),
    scopes: t.exposeStringList('scopes'),
    rpmLimit: t.exposeInt('rpmLimit', { nullable: true, description: "Requests per minute; null = the organization's default. Enforced at most at the organization's ceiling." }),
    tpmLimit: t.exposeInt('tpmLimit', { nullable: true, description: "Tokens per minute; null = the organization's default. Enforced at most at the organization's ceiling." }),
    dailyBudgetMicros: t.expose('dailyBudgetMicros', { type: 'BigInt', nullable: true, description: 'Spend allowed per UTC day in micro-dollars; null = no daily budget. Past it /v1 answers 429 insufficient_quota.' }),
    monthlyBudgetMicros: t.expose('monthlyBudgetMicros', { type: 'BigInt', nullable: true, description: 'Spend allowed per UTC month in micro-dollars; null = no monthly budget.' }),
    allowedModels: t.exposeStringList('allowedModels', { description: 'Models the key may call; empty = every model its organization may call. Others answer 404 model_not_found.' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', nullable: true }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
    lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime', nullable: true, description: 'Written in batches: up to ~10 s behind.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    organization: t.relation('organization'),
    createdBy: t.relation('createdBy', { nullable: true }),
    rotatedFrom: t.relation('rotatedFrom', { nullable: true }),
    rotatedTo: t.relation('rotatedTo', { nullable: true }),
  }),
});

export const ApiKeySecretPayload = builder.objectRef<{ secret: string; apiKeyId: string }>('ApiKeySecretPayload').implement({
  description: 'A new key: `secret` is shown this once and cannot be retrieved later.',
  fields: (t) => ({
    secret: t.exposeString('secret'),
    apiKey: t.prismaField({
      type: 'ApiKey',
      resolve: (query, payload, _args, ctx) => ctx.prisma.apiKey.findUniqueOrThrow({ ...query, where: { id: payload.apiKeyId } }),
    }),
  }),
});
