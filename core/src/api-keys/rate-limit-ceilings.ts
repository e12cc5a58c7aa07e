import type { Prisma } from '@cic/db';
import { AppError } from '../errors.ts';

/*
 * Who sets which rate limit: the platform's configuration gives every organization a default and a
 * ceiling (RATE_LIMIT_DEFAULT_* / RATE_LIMIT_MAX_*); platform admins may give one organization its own
 * (organizations.max_rpm …, null = the platform's); the organization's owners and admins give each key a
 * limit up to the ceiling, or none (= the organization's default). A ceiling lowered below a key's limit
 * does not rewrite the key: the limiter applies min(key limit, ceiling), so it bites at once everywhere.
 */

/** The platform's settings, from the API configuration. */
export interface PlatformRateLimits {
  defaultRpm: number;
  defaultTpm: number;
  maxRpm: number;
  maxTpm: number;
}

/** An organization's own settings (its row's columns); null = the platform's. */
export interface OrganizationRateLimits {
  maxRpm: number | null;
  maxTpm: number | null;
  defaultRpm: number | null;
  defaultTpm: number | null;
}

/** The Prisma select that reads `OrganizationRateLimits` (the key authenticator caches them with the key). */
export const ORGANIZATION_RATE_LIMITS_SELECT = { maxRpm: true, maxTpm: true, defaultRpm: true, defaultTpm: true } as const satisfies Prisma.OrganizationSelect;

/** An organization's settings with the platform's filled in; a default never exceeds the ceiling. */
export function resolveOrganizationLimits(org: OrganizationRateLimits, platform: PlatformRateLimits): PlatformRateLimits {
  const maxRpm = org.maxRpm ?? platform.maxRpm;
  const maxTpm = org.maxTpm ?? platform.maxTpm;
  return {
    maxRpm,
    maxTpm,
    defaultRpm: Math.min(org.defaultRpm ?? platform.defaultRpm, maxRpm),
    defaultTpm: Math.min(org.defaultTpm ?? platform.defaultTpm, maxTpm),
  };
}

/** What the rate limiter enforces for a key: its own limit (or the default), never above the ceiling. */
export function effectiveKeyLimits(
  key: { rpmLimit: number | null; tpmLimit: number | null },
  org: OrganizationRateLimits,
  platform: PlatformRateLimits,
): { rpm: number; tpm: number } {
  const resolved = resolveOrganizationLimits(org, platform);
  return {
    rpm: Math.min(key.rpmLimit ?? resolved.defaultRpm, resolved.maxRpm),
    tpm: Math.min(key.tpmLimit ?? resolved.defaultTpm, resolved.maxTpm),
  };
}

/** Refuses (BAD_REQUEST → GraphQL BAD_USER_INPUT) a key limit above its organization's ceiling. */
export function assertWithinCeilings(
  limits: { rpmLimit?: number | null | undefined; tpmLimit?: number | null | undefined },
  org: OrganizationRateLimits,
  platform: PlatformRateLimits,
): void {
  const { maxRpm, maxTpm } = resolveOrganizationLimits(org, platform);
  if (limits.rpmLimit != null && limits.rpmLimit > maxRpm) {
    throw new AppError('BAD_REQUEST', `rpmLimit ${limits.rpmLimit} exceeds this organization's ceiling of ${maxRpm} requests per minute; a platform admin can raise it.`, { param: 'rpmLimit' });
  }
  if (limits.tpmLimit != null && limits.tpmLimit > maxTpm) {
    throw new AppError('BAD_REQUEST', `tpmLimit ${limits.tpmLimit} exceeds this organization's ceiling of ${maxTpm} tokens per minute; a platform admin can raise it.`, { param: 'tpmLimit' });
  }
}

/** Reads an organization's settings inside the caller's transaction (NOT_FOUND when it is gone). */
export async function organizationLimitsOf(tx: Prisma.TransactionClient, organizationId: string): Promise<OrganizationRateLimits> {
  const org = await tx.organization.findUnique({ where: { id: organizationId }, select: ORGANIZATION_RATE_LIMITS_SELECT });
  if (!org) throw new AppError('NOT_FOUND', 'Organization not found.');
  return org;
}
