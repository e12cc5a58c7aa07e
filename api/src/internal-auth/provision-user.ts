import type { Prisma, PrismaClient } from '@cic/db';
import { writeAuditLog } from '@cic/core/audit/write-audit-log';
import { postLedgerEntry } from '@cic/core/billing/ledger';
import { AppError } from '@cic/core/errors';
import { readPlatformSettings, signUpRefusal, type PlatformSettingsValues } from '@cic/core/platform/platform-settings';

export interface ProvisionUserOptions {
  prisma: PrismaClient;
  /** The environment's platform settings, until an admin saves their own. */
  platformDefaults: PlatformSettingsValues;
  email: string;
  name?: string | null;
  image?: string | null;
  emailVerified?: Date | null;
}

type Tx = Prisma.TransactionClient;

/**
 * Creates a dashboard user on first sign-in, if the platform's sign-up policy lets the email in (an
 * invitation always does), always with an organization of their own as OWNER (with a billing account and
 * the platform's credit for new organizations), so every signed-in user belongs to at least one
 * organization. Pending invitations for the email stay pending: the user sees them (viewer.invitations)
 * and accepts or declines them; signing up never joins another organization by itself.
 */
export async function provisionUser({ prisma, platformDefaults, email, name = null, image = null, emailVerified = null }: ProvisionUserOptions) {
  const normalized = email.trim().toLowerCase();
  const settings = await readPlatformSettings(prisma, platformDefaults);
  const refusal = await signUpRefusal(prisma, settings, normalized);
  if (refusal) throw new AppError('FORBIDDEN', refusal);
  return prisma.$transaction(async (tx: Tx) => {
    const user = await tx.user.create({ data: { email: normalized, name, image, emailVerified } });
    const local = normalized.split('@')[0]!.replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'org';
    const org = await tx.organization.create({
      data: { name: `${name ?? local}'s organization`, slug: `${local}-${user.id.slice(-8)}`, billingAccount: { create: {} } },
    });
    await tx.membership.create({ data: { userId: user.id, organizationId: org.id, role: 'OWNER' } });
    await writeAuditLog(tx, { actor: { type: 'USER', id: user.id }, organizationId: org.id, action: 'organization.create', targetType: 'organization', targetId: org.id });
    if (settings.newOrganizationCreditMicros > 0n) {
      await postLedgerEntry(tx, {
        organizationId: org.id, type: 'ADJUSTMENT', amountMicros: settings.newOrganizationCreditMicros,
        sourceId: `signup-grant:${org.id}`, description: 'Credit for a new organization',
      });
    }
    return user;
  });
}

/**
 * Whether `email` may sign in: an existing user always may (the policy governs new accounts only);
 * a new one as the sign-up policy says. The dashboard asks before it sends a link or finishes an OAuth
 * sign-in, so a refused address is told why instead of meeting an error after the link.
 */
export async function signUpDecision(prisma: PrismaClient, platformDefaults: PlatformSettingsValues, email: string): Promise<{ allowed: boolean; reason: string | null }> {
  const normalized = email.trim().toLowerCase();
  if (await prisma.user.findUnique({ where: { email: normalized }, select: { id: true } })) return { allowed: true, reason: null };
  const reason = await signUpRefusal(prisma, await readPlatformSettings(prisma, platformDefaults), normalized);
  return { allowed: reason === null, reason };
}
