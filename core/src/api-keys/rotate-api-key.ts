import type { ApiKey } from '@cic/db';
import { AppError } from '../errors.ts';
import { writeAuditLog } from '../audit/write-audit-log.ts';
import type { KeyActionContext } from './key-action-options.ts';
import { generateKey } from './key-format.ts';
import { organizationLimitsOf, resolveOrganizationLimits, type PlatformRateLimits } from './rate-limit-ceilings.ts';

export interface RotateApiKeyOptions extends KeyActionContext {
  keyId: string;
  /** The platform's defaults and ceilings (for organizations without their own). */
  platformLimits: PlatformRateLimits;
}

/**
 * Replaces a live key by a new one with the same name, scopes, limits, budgets and allowed models (`rotatedFromId` links them)
 * and revokes the old one in the same transaction; returns the new secret once. A limit above a ceiling
 * lowered since is brought down to the ceiling rather than refused: rotating a leaked key must always work.
 */
export async function rotateApiKey({ prisma, bus, actor, requestId, keyId, platformLimits }: RotateApiKeyOptions): Promise<{ apiKey: ApiKey; secret: string; previous: ApiKey }> {
  const generated = generateKey();
  const result = await prisma.$transaction(async (tx) => {
    const old = await tx.apiKey.findUnique({ where: { id: keyId } });
    if (!old) throw new AppError('NOT_FOUND', 'API key not found.');
    // A conditional update: two concurrent rotations cannot both succeed.
    const revoked = await tx.apiKey.updateMany({ where: { id: keyId, revokedAt: null }, data: { revokedAt: new Date() } });
    if (revoked.count !== 1) throw new AppError('CONFLICT', 'This API key is already revoked; create a new key instead.', { param: 'id' });
    const { maxRpm, maxTpm } = resolveOrganizationLimits(await organizationLimitsOf(tx, old.organizationId), platformLimits);
    const rpmLimit = old.rpmLimit === null ? null : Math.min(old.rpmLimit, maxRpm);
    const tpmLimit = old.tpmLimit === null ? null : Math.min(old.tpmLimit, maxTpm);
    const created = await tx.apiKey.create({
      data: {
        organizationId: old.organizationId, name: old.name, scopes: old.scopes, rpmLimit, tpmLimit,
        expiresAt: old.expiresAt, dailyBudgetMicros: old.dailyBudgetMicros, monthlyBudgetMicros: old.monthlyBudgetMicros, allowedModels: old.allowedModels, rotatedFromId: old.id, prefix: generated.prefix, secretHash: generated.secretHash,
        createdById: actor.type === 'USER' ? actor.id : old.createdById,
      },
    });
    await writeAuditLog(tx, {
      actor, requestId, organizationId: old.organizationId, action: 'api_key.rotate', targetType: 'ApiKey', targetId: old.id, metadata: { newKeyId: created.id, rpmLimit, tpmLimit },
    });
    return { apiKey: created, previous: { ...old, revokedAt: new Date() } };
  });
  await bus.publish('apiKeyChanged', { keyId: result.previous.id, prefix: result.previous.prefix });
  return { ...result, secret: generated.secret };
}
