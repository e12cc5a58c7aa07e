import type { ServedModel } from '@cic/db';
import { writeAuditLog } from '../audit/write-audit-log.ts';
import { actorOf } from '../auth/viewer.ts';
import { assertPlatformAdmin } from '../billing/billing-access.ts';
import { AppError } from '../errors.ts';
import { publishModelChanged, type ModelActionContext } from './model-action-options.ts';

export interface SetModelEnabledOptions extends ModelActionContext {
  modelId: string;
  enabled: boolean;
}

/**
 * Enables or disables a model (platform admins; audited `model.enable` / `model.disable` when it changes).
 * A disabled model is not listed, not routed and gets no new nodes; its running nodes stay until terminated.
 */
export async function setModelEnabled({ prisma, bus, viewer, requestId = null, modelId, enabled }: SetModelEnabledOptions): Promise<{ model: ServedModel; changed: boolean }> {
  assertPlatformAdmin(viewer);
  const result = await prisma.$transaction(async (tx) => {
    // Compare-and-set: of two admins flipping it at once, one changes it and is audited.
    const { count } = await tx.servedModel.updateMany({ where: { id: modelId, enabled: !enabled }, data: { enabled } });
    const model = await tx.servedModel.findUnique({ where: { id: modelId } });
    if (!model) throw new AppError('NOT_FOUND', 'Model not found.', { param: 'modelId' });
    if (count === 1) {
      await writeAuditLog(tx, { actor: actorOf(viewer), requestId, action: enabled ? 'model.enable' : 'model.disable', targetType: 'served_model', targetId: modelId, metadata: { model: model.name } });
    }
    return { model, changed: count === 1 };
  });
  if (result.changed) await publishModelChanged(bus, result.model);
  return result;
}
