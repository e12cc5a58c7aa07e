import type { Prisma } from '@cic/db';
import { AppError } from '../errors.ts';
import { visibleModelsWhere } from '../models/model-visibility.ts';

/*
 * A key's spend controls: a budget per UTC day and/or month (micro-dollars, enforced on the inference path
 * by billing/key-budgets.ts) and the models it may call (empty = all its organization may call).
 */

/** The highest budget accepted: one million USD per window. */
export const MAX_BUDGET_MICROS = 1_000_000n * 1_000_000n;
/** The most model names one key may list. */
export const MAX_ALLOWED_MODELS = 100;

export interface KeySpendControls {
  /** null = no daily budget; undefined = unchanged. */
  dailyBudgetMicros?: bigint | null;
  /** null = no monthly budget; undefined = unchanged. */
  monthlyBudgetMicros?: bigint | null;
  /** [] = every model the organization may call; undefined = unchanged. */
  allowedModels?: string[];
}

/**
 * Checks spend controls against an organization inside the caller's transaction and returns them with
 * `allowedModels` de-duplicated. A model the organization cannot see is refused with the same words as one
 * that does not exist, so the check reveals nothing about models limited to others.
 */
export async function validateSpendControls(tx: Prisma.TransactionClient, organizationId: string, controls: KeySpendControls): Promise<KeySpendControls> {
  for (const param of ['dailyBudgetMicros', 'monthlyBudgetMicros'] as const) {
    const v = controls[param];
    if (v != null && (v < 0n || v > MAX_BUDGET_MICROS)) {
      throw new AppError('BAD_REQUEST', `${param} must be between 0 and 1,000,000 USD (${MAX_BUDGET_MICROS} micro-dollars); null removes the budget.`, { param });
    }
  }
  if (controls.allowedModels === undefined) return controls;
  const allowedModels = [...new Set(controls.allowedModels.map((m) => m.trim()))];
  if (allowedModels.length > MAX_ALLOWED_MODELS) {
    throw new AppError('BAD_REQUEST', `A key may list at most ${MAX_ALLOWED_MODELS} models.`, { param: 'allowedModels' });
  }
  if (allowedModels.length > 0) {
    const found = await tx.servedModel.findMany({ where: { ...visibleModelsWhere(organizationId), name: { in: allowedModels } }, select: { name: true } });
    const known = new Set(found.map((m) => m.name));
    const unknown = allowedModels.find((m) => !known.has(m));
    if (unknown !== undefined) throw new AppError('BAD_REQUEST', `Unknown model '${unknown}': list models your organization may call (see /v1/models).`, { param: 'allowedModels' });
  }
  return { ...controls, allowedModels };
}

/** The audit log's view of a key's controls (BigInt as strings, JSON-safe). */
export function spendControlsForAudit(key: { dailyBudgetMicros: bigint | null; monthlyBudgetMicros: bigint | null; allowedModels: string[] }) {
  return { dailyBudgetMicros: key.dailyBudgetMicros?.toString() ?? null, monthlyBudgetMicros: key.monthlyBudgetMicros?.toString() ?? null, allowedModels: key.allowedModels };
}
