import type { LedgerEntryType, Prisma, PrismaClient } from '@cic/db';

type Tx = Prisma.TransactionClient | PrismaClient;

export interface LedgerEntryInput {
  organizationId: string;
  type: LedgerEntryType;
  /** Signed micro-dollars: credits positive, charges and refunds negative. */
  amountMicros: bigint;
  /** What caused the entry; a second entry with the same source id is ignored. */
  sourceId: string;
  description: string;
  metadata?: Prisma.InputJsonValue;
  createdById?: string | null;
}

export interface PostedEntry {
  /** False when an entry with this source id already existed (nothing changed). */
  inserted: boolean;
  balanceMicros: bigint;
}

/**
 * Appends one entry to the append-only credit ledger and moves the cached balance by its amount, in
 * the caller's transaction. Idempotent on `sourceId` (unique): replays and concurrent duplicates post
 * once, so balance always equals the sum of distinct entries. Call inside `prisma.$transaction` when the
 * entry must commit together with another effect (a processed Stripe event, a rolled-up usage hour).
 */
export async function postLedgerEntry(tx: Tx, entry: LedgerEntryInput): Promise<PostedEntry> {
  const inserted = await tx.$executeRaw`
    INSERT INTO ledger_entries (id, organization_id, type, amount_micros, source_id, description, metadata, created_by_id)
    VALUES ('led_' || replace(gen_random_uuid()::text, '-', ''), ${entry.organizationId}, ${entry.type}::"LedgerEntryType",
            ${entry.amountMicros}, ${entry.sourceId}, ${entry.description}, ${JSON.stringify(entry.metadata ?? {})}::jsonb, ${entry.createdById ?? null})
    ON CONFLICT (source_id) DO NOTHING`;
  if (inserted === 0) {
    const account = await tx.billingAccount.findUnique({ where: { organizationId: entry.organizationId } });
    return { inserted: false, balanceMicros: account?.balanceMicros ?? 0n };
  }
  // One statement (not Prisma's upsert): two first entries of an organization racing cannot hit a unique violation.
  const [account] = await tx.$queryRaw<{ balance_micros: bigint }[]>`
    INSERT INTO billing_accounts (organization_id, balance_micros, updated_at) VALUES (${entry.organizationId}, ${entry.amountMicros}, now())
    ON CONFLICT (organization_id) DO UPDATE SET balance_micros = billing_accounts.balance_micros + EXCLUDED.balance_micros, updated_at = now()
    RETURNING balance_micros`;
  return { inserted: true, balanceMicros: account!.balance_micros };
}
