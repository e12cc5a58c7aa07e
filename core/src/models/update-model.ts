import { isDeepStrictEqual } from 'node:util';
import type { ServedModel } from '@cic/db';
import { writeAuditLog } from '../audit/write-audit-log.ts';
import { actorOf } from '../auth/viewer.ts';
import { assertPlatformAdmin } from '../billing/billing-access.ts';
import { AppError } from '../errors.ts';
import { assertOrganizationsExist, publishModelChanged, type ModelActionContext } from './model-action-options.ts';
import { updateModelSchema, type UpdateModelInput } from './model-settings.ts';
import { parseModelInput } from './parse-model-input.ts';

export interface UpdateModelOptions extends ModelActionContext {
  modelId: string;
  /** Omitted fields stay; null clears a nullable one. Prices change through updateModelPrice. */
  input: UpdateModelInput;
}

/**
 * Changes a model's description, source, context length, launch defaults or visibility (platform admins;
 * audited `model.update` with the old and new value of each changed field). Nodes already launched keep
 * the settings they were launched with. Changing nothing writes nothing.
 */
export async function updateModel({ prisma, bus, viewer, requestId = null, modelId, input }: UpdateModelOptions): Promise<{ model: ServedModel; changed: boolean }> {
  assertPlatformAdmin(viewer);
  const { organizationIds, ...fields } = parseModelInput(updateModelSchema, input);
  const result = await prisma.$transaction(async (tx) => {
    const before = await tx.servedModel.findUnique({ where: { id: modelId } });
    if (!before) throw new AppError('NOT_FOUND', 'Model not found.', { param: 'modelId' });
    const access = await tx.servedModelAccess.findMany({ where: { modelId }, select: { organizationId: true } });
    const from: Record<string, unknown> = {};
    const to: Record<string, unknown> = {};
    for (const [field, value] of Object.entries(fields)) {
      const old = before[field as keyof typeof fields];
      if (value !== undefined && !isDeepStrictEqual(old, value)) [from[field], to[field]] = [old, value];
    }
    const oldOrganizations = access.map((a) => a.organizationId).sort();
    if (organizationIds && !isDeepStrictEqual([...organizationIds].sort(), oldOrganizations)) {
      await assertOrganizationsExist(tx, organizationIds);
      await tx.servedModelAccess.deleteMany({ where: { modelId } });
      await tx.servedModelAccess.createMany({ data: organizationIds.map((organizationId) => ({ modelId, organizationId })) });
      [from.organizationIds, to.organizationIds] = [oldOrganizations, organizationIds];
    }
    if (Object.keys(to).length === 0) return { model: before, changed: false };
    const model = await tx.servedModel.update({ where: { id: modelId }, data: fields });
    await writeAuditLog(tx, {
      actor: actorOf(viewer), requestId, action: 'model.update', targetType: 'served_model', targetId: modelId,
      metadata: JSON.parse(JSON.stringify({ model: model.name, from, to })),
    });
    return { model, changed: true };
  });
  if (result.changed) await publishModelChanged(bus, result.model);
  return result;
}
