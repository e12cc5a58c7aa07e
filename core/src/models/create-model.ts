import type { ServedModel } from '@cic/db';
import { writeAuditLog } from '../audit/write-audit-log.ts';
import { actorOf } from '../auth/viewer.ts';
import { assertPlatformAdmin } from '../billing/billing-access.ts';
import { AppError } from '../errors.ts';
import { assertOrganizationsExist, publishModelChanged, type ModelActionContext } from './model-action-options.ts';
import { createModelSchema, type CreateModelInput } from './model-settings.ts';
import { parseModelInput } from './parse-model-input.ts';

export interface CreateModelOptions extends ModelActionContext {
  input: CreateModelInput;
}

const conflict = (name: string) => new AppError('CONFLICT', `A model named "${name}" exists already.`, { param: 'name' });

/** Adds a model to the catalog (platform admins; audited `model.create`). Nodes are launched for it separately. */
export async function createModel({ prisma, bus, viewer, requestId = null, input }: CreateModelOptions): Promise<ServedModel> {
  assertPlatformAdmin(viewer);
  const { organizationIds, ...fields } = parseModelInput(createModelSchema, input);
  let model: ServedModel;
  try {
    model = await prisma.$transaction(async (tx) => {
      if (await tx.servedModel.findUnique({ where: { name: fields.name }, select: { id: true } })) throw conflict(fields.name);
      await assertOrganizationsExist(tx, organizationIds);
      const created = await tx.servedModel.create({ data: { ...fields, access: { create: organizationIds.map((organizationId) => ({ organizationId })) } } });
      await writeAuditLog(tx, {
        actor: actorOf(viewer), requestId, action: 'model.create', targetType: 'served_model', targetId: created.id,
        metadata: {
          name: created.name, source: created.source, isPublic: created.isPublic, organizationIds,
          promptPriceMicros: created.promptPriceMicros.toString(), completionPriceMicros: created.completionPriceMicros.toString(),
        },
      });
      return created;
    });
  } catch (err) {
    // Two admins adding the same name at once: the unique index decides.
    if ((err as { code?: unknown }).code === 'P2002') throw conflict(fields.name);
    throw err;
  }
  await publishModelChanged(bus, model);
  return model;
}
