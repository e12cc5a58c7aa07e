import type { ApiKey } from '@cic/db';
import { AppError } from '../errors.ts';
import { writeAuditLog } from '../audit/write-audit-log.ts';
import type { KeyActionContext } from './key-action-options.ts';
import { assertWithinCeilings, organizationLimitsOf, type PlatformRateLimits } from './rate-limit-ceilings.ts';

export interface UpdateApiKeyLimitsOptions extends KeyActionContext {
  keyId: string;
  /** Requests per minute, at most the organization's ceiling; null = the organization's default; undefined = unchanged. */
  rpmLimit?: number | null;
  /** Tokens per minute, at most the organization's ceiling; null = the organization's default; undefined = unchanged. */
  tpmLimit?: number | null;
  /** The platform's defaults and ceilings (for organizations without their own). */
  platformLimits: PlatformRateLimits;
}

/**
 * Changes a key's rate limits (each at most the organization's ceiling); `apiKeyChanged` makes every
 * instance re-read the key at once.
 */
export async function updateApiKeyLimits({ prisma, bus, actor, requestId, keyId, rpmLimit, tpmLimit, platformLimits }: UpdateApiKeyLimitsOptions): Promise<ApiKey> {
  const key = await prisma.$transaction(async (tx) => {
    const current = await tx.apiKey.findUnique({ where: { id: keyId } });
    if (!current) throw new AppError('NOT_FOUND', 'API key not found.');
    if (current.revokedAt) throw new AppError('CONFLICT', 'This API key is revoked; its limits can no longer change.', { param: 'id' });
    assertWithinCeilings({ rpmLimit, tpmLimit }, await organizationLimitsOf(tx, current.organizationId), platformLimits);
    const updated = await tx.apiKey.update({ where: { id: keyId }, data: { rpmLimit, tpmLimit } });
    await writeAuditLog(tx, {
      actor, requestId, organizationId: updated.organizationId, action: 'api_key.update_limits', targetType: 'ApiKey', targetId: keyId,
      metadata: { from: { rpmLimit: current.rpmLimit, tpmLimit: current.tpmLimit }, to: { rpmLimit: updated.rpmLimit, tpmLimit: updated.tpmLimit } },
    });
    return updated;
  });
  await bus.publish('apiKeyChanged', { keyId: key.id, prefix: key.prefix });
  return key;
}
