import type { ApiKey } from '@cic/db';
import { writeAuditLog } from '../audit/write-audit-log.ts';
import type { ApiKeyScope, KeyActionContext } from './key-action-options.ts';
import { generateKey } from './key-format.ts';
import { spendControlsForAudit, validateSpendControls, type KeySpendControls } from './key-spend-controls.ts';
import { assertWithinCeilings, organizationLimitsOf, type PlatformRateLimits } from './rate-limit-ceilings.ts';

export interface CreateApiKeyOptions extends KeyActionContext, KeySpendControls {
  organizationId: string;
  name: string;
  /** @defaultValue ['inference'] */
  scopes?: ApiKeyScope[];
  /** Requests per minute, at most the organization's ceiling; null = the organization's default. */
  rpmLimit?: number | null;
  /** Tokens per minute, at most the organization's ceiling; null = the organization's default. */
  tpmLimit?: number | null;
  expiresAt?: Date | null;
  /** The platform's defaults and ceilings (for organizations without their own). */
  platformLimits: PlatformRateLimits;
}

/**
 * Creates a key and returns its secret, which is never stored (only its sha256) and never shown again.
 * Nothing is published: no instance can have a new key cached.
 */
export async function createApiKey(options: CreateApiKeyOptions): Promise<{ apiKey: ApiKey; secret: string }> {
  const { prisma, actor, requestId, organizationId, name, scopes = ['inference'], rpmLimit = null, tpmLimit = null, expiresAt = null, platformLimits } = options;
  const { dailyBudgetMicros = null, monthlyBudgetMicros = null, allowedModels = [] } = options;
  const generated = generateKey();
  const apiKey = await prisma.$transaction(async (tx) => {
    assertWithinCeilings({ rpmLimit, tpmLimit }, await organizationLimitsOf(tx, organizationId), platformLimits);
    const controls = await validateSpendControls(tx, organizationId, { dailyBudgetMicros, monthlyBudgetMicros, allowedModels });
    const created = await tx.apiKey.create({
      data: {
        organizationId, name, scopes: [...new Set(scopes)], rpmLimit, tpmLimit, expiresAt, ...controls,
        prefix: generated.prefix, secretHash: generated.secretHash, createdById: actor.type === 'USER' ? actor.id : null,
      },
    });
    await writeAuditLog(tx, {
      actor, requestId, organizationId, action: 'api_key.create', targetType: 'ApiKey', targetId: created.id,
      metadata: { name, scopes: created.scopes, rpmLimit, tpmLimit, ...spendControlsForAudit(created) },
    });
    return created;
  });
  return { apiKey, secret: generated.secret };
}
