import { z } from 'zod';
import { resolveOrganizationLimits, type PlatformRateLimits } from '@cic/core/api-keys/rate-limit-ceilings';
import { setOrganizationLimits } from '@cic/core/organizations/set-organization-limits';
import { builder } from '../builder.ts';
import { OrganizationRef } from './organization.ts';
import { auditOf } from './scopes.ts';

declare module '../context.ts' {
  interface GraphQLServices {
    /** The platform's rate-limit defaults and ceilings (RATE_LIMIT_*), for organizations without their own. */
    rateLimits: PlatformRateLimits;
  }
}

const OrganizationRateLimits = builder.objectRef<PlatformRateLimits>('OrganizationRateLimits').implement({
  description: "The rate limits in force for an organization's keys: its own settings where a platform admin set them, else the platform's.",
  fields: (t) => ({
    maxRpm: t.exposeInt('maxRpm', { description: "Ceiling on every key's requests per minute; keys cannot be set above it and are enforced at it." }),
    maxTpm: t.exposeInt('maxTpm', { description: "Ceiling on every key's tokens per minute." }),
    defaultRpm: t.exposeInt('defaultRpm', { description: 'Requests per minute of keys without their own limit.' }),
    defaultTpm: t.exposeInt('defaultTpm', { description: 'Tokens per minute of keys without their own limit.' }),
  }),
});

builder.objectField(OrganizationRef, 'rateLimits', (t) =>
  t.field({ type: OrganizationRateLimits, resolve: (org, _args, ctx) => resolveOrganizationLimits(org, ctx.rateLimits) }),
);

const setting = { schema: z.number().int().min(1).max(2_147_483_647) };
const SetOrganizationLimitsInput = builder.inputType('SetOrganizationLimitsInput', {
  description: 'Each limit: a number sets it, null gives it back to the platform setting, omitted leaves it unchanged.',
  fields: (t) => ({
    organizationId: t.id(),
    maxRpm: t.int({ required: false, validate: setting, description: 'Ceiling on requests per minute (RATE_LIMIT_MAX_RPM when null).' }),
    maxTpm: t.int({ required: false, validate: setting, description: 'Ceiling on tokens per minute (RATE_LIMIT_MAX_TPM when null).' }),
    defaultRpm: t.int({ required: false, validate: setting, description: 'Default requests per minute, at most the ceiling (RATE_LIMIT_DEFAULT_RPM when null).' }),
    defaultTpm: t.int({ required: false, validate: setting, description: 'Default tokens per minute, at most the ceiling (RATE_LIMIT_DEFAULT_TPM when null).' }),
  }),
});

builder.mutationFields((t) => ({
  setOrganizationLimits: t.prismaField({
    type: 'Organization',
    description: "Sets an organization's rate-limit ceilings and defaults (platform admins; audited). Keys above a lowered ceiling are enforced at it at once.",
    args: { input: t.arg({ type: SetOrganizationLimitsInput }) },
    authScopes: { platformAdmin: true },
    resolve: async (query, _root, { input }, ctx) => {
      const organizationId = String(input.organizationId);
      await setOrganizationLimits({
        ...auditOf(ctx), prisma: ctx.prisma, bus: ctx.bus, organizationId, platformLimits: ctx.rateLimits,
        limits: { maxRpm: input.maxRpm, maxTpm: input.maxTpm, defaultRpm: input.defaultRpm, defaultTpm: input.defaultTpm },
      });
      ctx.log.info({ organizationId }, 'organization rate limits set');
      return ctx.prisma.organization.findUniqueOrThrow({ ...query, where: { id: organizationId } });
    },
  }),
}));
