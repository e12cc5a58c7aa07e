import type { ApiKey } from '@cic/db';
import { AppError } from '../errors.ts';
import { publish } from '../lib/topics.ts';
import { writeAuditLog } from '../audit/write-audit-log.ts';
import type { KeyActionContext } from './key-action-options.ts';

export interface UpdateApiKeyLimitsOptions extends KeyActionContext {
  keyId: string;
  /** Requests per minute; null = the platform default; undefined = unchanged. */
  rpmLimit?: number | null;
  /** Tokens per minute; null = the platform default; undefined = unchanged. */
  tpmLimit?: number | null;
}

/** Changes a key's rate limits; `apiKeyChanged` makes every instance re-read the key at once. */
export async function updateApiKeyLimits({ prisma, redis, actor, requestId, keyId, rpmLimit, tpmLimit }: UpdateApiKeyLimitsOptions): Promise<ApiKey> {
  const key = await prisma.$transaction(async (tx) => {
    const current = await tx.apiKey.findUnique({ where: { id: keyId } });
    if (!current) throw new AppError('NOT_FOUND', 'API key not found.');
    if (current.revokedAt) throw new AppError('CONFLICT', 'This API key is revoked; its limits can no longer change.', { param: 'id' });
    const updated = await tx.apiKey.update({ where: { id: keyId }, data: { rpmLimit, tpmLimit } });
    await writeAuditLog(tx, {
      actor, requestId, organizationId: updated.organizationId, action: 'api_key.update_limits', targetType: 'ApiKey', targetId: keyId,
      metadata: { from: { rpmLimit: current.rpmLimit, tpmLimit: current.tpmLimit }, to: { rpmLimit: updated.rpmLimit, tpmLimit: updated.tpmLimit } },
    });
    return updated;
  });
  await publish(redis, 'apiKeyChanged', { keyId: key.id, prefix: key.prefix });
  return key;
}
