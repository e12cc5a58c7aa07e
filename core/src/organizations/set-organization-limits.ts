import type { Organization, PrismaClient } from '@cic/db';
import { writeAuditLog, type Actor } from '../audit/write-audit-log.ts';
import { AppError } from '../errors.ts';
import type { TopicPublisher } from '../lib/topic-bus.ts';
import { resolveOrganizationLimits, type OrganizationRateLimits, type PlatformRateLimits } from '../api-keys/rate-limit-ceilings.ts';

export interface SetOrganizationLimitsOptions {
  prisma: PrismaClient;
  /** Publishes `apiKeyChanged` for the organization's keys, so every instance re-reads their ceilings. */
  bus: TopicPublisher;
  /** A platform admin (the caller checks); audit log. */
  actor: Actor;
  requestId: string;
  organizationId: string;
  /** Each field: a number sets it, null gives it back to the platform's setting, undefined leaves it. */
  limits: Partial<OrganizationRateLimits>;
  platformLimits: PlatformRateLimits;
}

/**
 * Sets an organization's rate-limit ceilings and defaults (platform admins). Keys above a lowered ceiling
 * keep their stored limit but are enforced at the ceiling (see rate-limit-ceilings.ts); the audit entry
 * counts them. Every live key of the organization is evicted from the key caches after commit.
 */
export async function setOrganizationLimits(options: SetOrganizationLimitsOptions): Promise<Organization> {
  const { prisma, bus, actor, requestId, organizationId, limits, platformLimits } = options;
  const { organization, keys } = await prisma.$transaction(async (tx) => {
    const current = await tx.organization.findUnique({ where: { id: organizationId } });
    if (!current) throw new AppError('NOT_FOUND', 'Organization not found.');
    const from: OrganizationRateLimits = { maxRpm: current.maxRpm, maxTpm: current.maxTpm, defaultRpm: current.defaultRpm, defaultTpm: current.defaultTpm };
    const to: OrganizationRateLimits = {
      maxRpm: limits.maxRpm === undefined ? from.maxRpm : limits.maxRpm,
      maxTpm: limits.maxTpm === undefined ? from.maxTpm : limits.maxTpm,
      defaultRpm: limits.defaultRpm === undefined ? from.defaultRpm : limits.defaultRpm,
      defaultTpm: limits.defaultTpm === undefined ? from.defaultTpm : limits.defaultTpm,
    };
    const ceilings = resolveOrganizationLimits({ ...to, defaultRpm: null, defaultTpm: null }, platformLimits);
    if (to.defaultRpm !== null && to.defaultRpm > ceilings.maxRpm) {
      throw new AppError('BAD_REQUEST', `defaultRpm ${to.defaultRpm} exceeds the organization's ceiling of ${ceilings.maxRpm} requests per minute.`, { param: 'defaultRpm' });
    }
    if (to.defaultTpm !== null && to.defaultTpm > ceilings.maxTpm) {
      throw new AppError('BAD_REQUEST', `defaultTpm ${to.defaultTpm} exceeds the organization's ceiling of ${ceilings.maxTpm} tokens per minute.`, { param: 'defaultTpm' });
    }
    const updated = await tx.organization.update({ where: { id: organizationId }, data: to });
    const live = await tx.apiKey.findMany({ where: { organizationId, revokedAt: null }, select: { id: true, prefix: true, rpmLimit: true, tpmLimit: true } });
    const aboveCeiling = live.filter((k) => (k.rpmLimit ?? 0) > ceilings.maxRpm || (k.tpmLimit ?? 0) > ceilings.maxTpm).length;
    await writeAuditLog(tx, {
      actor, requestId, organizationId, action: 'organization.set_limits', targetType: 'Organization', targetId: organizationId,
      metadata: { from: { ...from }, to: { ...to }, keysAboveCeiling: aboveCeiling },
    });
    return { organization: updated, keys: live };
  });
  // The key caches hold each key with its organization's limits: drop them all on every instance.
  await Promise.all(keys.map((k) => bus.publish('apiKeyChanged', { keyId: k.id, prefix: k.prefix })));
  return organization;
}
