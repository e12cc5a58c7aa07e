import type { ApiKey } from '@cic/db';
import { AppError } from '../errors.ts';
import { writeAuditLog } from '../audit/write-audit-log.ts';
import type { KeyActionContext } from './key-action-options.ts';

export interface RevokeApiKeyOptions extends KeyActionContext {
  keyId: string;
}

/**
 * Revokes a key (idempotent: revoking twice keeps the first time) and publishes `apiKeyChanged` after
 * commit, so every API instance evicts it and GraphQL connections made with it are closed.
 */
export async function revokeApiKey({ prisma, bus, actor, requestId, keyId }: RevokeApiKeyOptions): Promise<ApiKey> {
  const key = await prisma.$transaction(async (tx) => {
    const current = await tx.apiKey.findUnique({ where: { id: keyId } });
    if (!current) throw new AppError('NOT_FOUND', 'API key not found.');
    if (current.revokedAt) return current;
    const revoked = await tx.apiKey.update({ where: { id: keyId }, data: { revokedAt: new Date() } });
    await writeAuditLog(tx, { actor, requestId, organizationId: revoked.organizationId, action: 'api_key.revoke', targetType: 'ApiKey', targetId: keyId });
    return revoked;
  });
  await bus.publish('apiKeyChanged', { keyId: key.id, prefix: key.prefix });
  return key;
}
