import type { PrismaClient } from '@cic/db';
import { AppError } from '../errors.ts';
import { writeAuditLog } from '../audit/write-audit-log.ts';
import { actorOf, type Operator, type Viewer } from '../auth/viewer.ts';
import { MAX_PRICE_MICROS } from '../models/model-settings.ts';
import { assertPlatformAdmin } from './billing-access.ts';

export interface UpdateModelPriceOptions {
  prisma: PrismaClient;
  /** A platform admin (or the admin CLI's operator). */
  viewer: Viewer | Operator;
  modelId: string;
  /** Micro-dollars per million prompt tokens; omitted = unchanged. */
  promptPriceMicros?: bigint;
  /** Micro-dollars per million completion tokens; omitted = unchanged. */
  completionPriceMicros?: bigint;
  requestId?: string | null;
}

/**
 * Sets a served model's prices (audited with the old and new values). Usage is charged at the price in
 * force when it is rolled up, so a change applies to the hours not yet rolled up.
 */
export async function updateModelPrice(options: UpdateModelPriceOptions) {
  const { prisma, viewer, modelId, promptPriceMicros, completionPriceMicros, requestId = null } = options;
  assertPlatformAdmin(viewer);
  for (const [param, v] of [['promptPriceMicros', promptPriceMicros], ['completionPriceMicros', completionPriceMicros]] as const) {
    if (v !== undefined && (v < 0n || v > MAX_PRICE_MICROS)) {
      throw new AppError('BAD_REQUEST', 'A price must be between 0 and 1,000 USD (1,000,000,000 micro-dollars) per million tokens.', { param });
    }
  }
  if (promptPriceMicros === undefined && completionPriceMicros === undefined) {
    throw new AppError('BAD_REQUEST', 'Give a prompt or completion price.', { param: 'promptPriceMicros' });
  }
  return prisma.$transaction(async (tx) => {
    const before = await tx.servedModel.findUnique({ where: { id: modelId } });
    if (!before) throw new AppError('NOT_FOUND', 'Model not found.', { param: 'modelId' });
    const after = await tx.servedModel.update({ where: { id: modelId }, data: { promptPriceMicros, completionPriceMicros } });
    await writeAuditLog(tx, {
      actor: actorOf(viewer), action: 'model.update_price', targetType: 'served_model', targetId: modelId, requestId,
      metadata: {
        model: after.name,
        from: { promptPriceMicros: before.promptPriceMicros.toString(), completionPriceMicros: before.completionPriceMicros.toString() },
        to: { promptPriceMicros: after.promptPriceMicros.toString(), completionPriceMicros: after.completionPriceMicros.toString() },
      },
    });
    return after;
  });
}
