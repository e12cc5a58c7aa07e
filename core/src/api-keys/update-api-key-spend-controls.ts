import type { ApiKey } from '@cic/db';
import { AppError } from '../errors.ts';
import { writeAuditLog } from '../audit/write-audit-log.ts';
import type { KeyActionContext } from './key-action-options.ts';
import { spendControlsForAudit, validateSpendControls, type KeySpendControls } from './key-spend-controls.ts';

export interface UpdateApiKeySpendControlsOptions extends KeyActionContext, KeySpendControls {
  keyId: string;
}

/**
 * Changes a key's budgets and allowed models (audited with the old and new values); `apiKeyChanged` makes
 * every instance re-read the key at once. Spend already counted in the current windows stays counted.
 */
export async function updateApiKeySpendControls({ prisma, bus, actor, requestId, keyId, ...controls }: UpdateApiKeySpendControlsOptions): Promise<ApiKey> {
  const key = await prisma.$transaction(async (tx) => {
    const current = await tx.apiKey.findUnique({ where: { id: keyId } });
    if (!current) throw new AppError('NOT_FOUND', 'API key not found.');
    if (current.revokedAt) throw new AppError('CONFLICT', 'This API key is revoked; its settings can no longer change.', { param: 'id' });
    const { dailyBudgetMicros, monthlyBudgetMicros, allowedModels } = await validateSpendControls(tx, current.organizationId, controls);
    const updated = await tx.apiKey.update({ where: { id: keyId }, data: { dailyBudgetMicros, monthlyBudgetMicros, allowedModels } });
    await writeAuditLog(tx, {
      actor, requestId, organizationId: updated.organizationId, action: 'api_key.update_spend_controls', targetType: 'ApiKey', targetId: keyId,
      metadata: { from: spendControlsForAudit(current), to: spendControlsForAudit(updated) },
    });
    return updated;
  });
  await bus.publish('apiKeyChanged', { keyId: key.id, prefix: key.prefix });
  return key;
}
