import type { PrismaClient } from '@cic/db';
import type { ApiKeyScope } from '../api-keys/key-action-options.ts';
import { generateKey, hashKey, parseKey } from '../api-keys/key-format.ts';
import { writeAuditLog } from '../audit/write-audit-log.ts';
import { postLedgerEntry } from '../billing/ledger.ts';

const SYSTEM = { type: 'SYSTEM', id: 'bootstrap' } as const;

export interface BootstrapOptions {
  prisma: PrismaClient;
  /** This user becomes a platform admin and owner of an organization. */
  adminEmail: string;
  /** When given, this exact key is ensured for the admin's organization (demos, scripts). */
  apiKey?: string;
  /**
   * Scopes of the bootstrap key, set on every run (so changing them converges too).
   * @defaultValue ['inference', 'graphql']: the key calls /v1 and the GraphQL API
   */
  scopes?: readonly ApiKeyScope[];
  /** Served models to make sure exist (the local simulated node's model among them). */
  models: { name: string; displayName: string; maxModelLen: number; promptPriceMicros: bigint; completionPriceMicros: bigint }[];
  /**
   * Credits granted once to the admin's organization, so the printed key works before anyone buys credits.
   * @defaultValue 10_000_000n (10 USD)
   */
  initialCreditMicros?: bigint;
}

export interface BootstrapResult {
  userId: string;
  organizationId: string;
  apiKeyId: string;
  /** The key's secret when this run created it (shown once), else null. */
  createdKey: string | null;
}

const BOOTSTRAP_KEY_NAME = 'bootstrap';

/** Idempotent: running it on every start converges to the same admin, organization and key. */
export async function bootstrapPlatform({ prisma, adminEmail: givenEmail, apiKey, scopes: wanted = ['inference', 'graphql'], models, initialCreditMicros = 10_000_000n }: BootstrapOptions): Promise<BootstrapResult> {
  const scopes = [...new Set(wanted)];
  // Stored as sign-in stores it: the dashboard looks users up by the lower-cased address.
  const adminEmail = givenEmail.trim().toLowerCase();
  for (const m of models) {
    await prisma.servedModel.upsert({ where: { name: m.name }, create: m, update: {} });
  }
  const user = await prisma.user.upsert({
    where: { email: adminEmail },
    create: { email: adminEmail, isPlatformAdmin: true },
    update: { isPlatformAdmin: true },
  });
  let membership = await prisma.membership.findFirst({ where: { userId: user.id, role: 'OWNER' }, orderBy: { createdAt: 'asc' } });
  if (!membership) {
    const local = adminEmail.split('@')[0]!.toLowerCase().replace(/[^a-z0-9]+/g, '-');
    const org = await prisma.organization.create({
      data: { name: `${local}'s organization`, slug: `${local}-${user.id.slice(-6)}`, billingAccount: { create: {} } },
    });
    membership = await prisma.membership.create({ data: { userId: user.id, organizationId: org.id, role: 'OWNER' } });
    await writeAuditLog(prisma, { actor: SYSTEM, organizationId: org.id, action: 'organization.create', targetType: 'organization', targetId: org.id });
  }
  const organizationId = membership.organizationId;
  if (initialCreditMicros > 0n) {
    await postLedgerEntry(prisma, {
      organizationId,
      type: 'ADJUSTMENT',
      amountMicros: initialCreditMicros,
      sourceId: `bootstrap-grant:${organizationId}`,
      description: 'Initial credit for the bootstrap organization',
    });
  }

  if (apiKey) {
    const parsed = parseKey(apiKey);
    if (!parsed) throw new Error('BOOTSTRAP_API_KEY is not a CIC key (cic_<12 chars>_<32 chars>)');
    const existing = await prisma.apiKey.findUnique({ where: { prefix: parsed.prefix } });
    if (existing && existing.organizationId !== organizationId) throw new Error('BOOTSTRAP_API_KEY belongs to another organization');
    const key = await prisma.apiKey.upsert({
      where: { prefix: parsed.prefix },
      create: { organizationId, createdById: user.id, name: BOOTSTRAP_KEY_NAME, prefix: parsed.prefix, secretHash: hashKey(apiKey), scopes },
      update: { secretHash: hashKey(apiKey), revokedAt: null, scopes },
    });
    return { userId: user.id, organizationId, apiKeyId: key.id, createdKey: null };
  }

  const existing = await prisma.apiKey.findFirst({ where: { organizationId, name: BOOTSTRAP_KEY_NAME, revokedAt: null } });
  if (existing) {
    await prisma.apiKey.update({ where: { id: existing.id }, data: { scopes } });
    return { userId: user.id, organizationId, apiKeyId: existing.id, createdKey: null };
  }
  const generated = generateKey();
  const key = await prisma.apiKey.create({
    data: { organizationId, createdById: user.id, name: BOOTSTRAP_KEY_NAME, prefix: generated.prefix, secretHash: generated.secretHash, scopes },
  });
  await writeAuditLog(prisma, { actor: SYSTEM, organizationId, action: 'api_key.create', targetType: 'api_key', targetId: key.id });
  return { userId: user.id, organizationId, apiKeyId: key.id, createdKey: generated.secret };
}
