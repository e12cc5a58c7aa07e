import type { Prisma, PrismaClient } from '@cic/db';
import { writeAuditLog } from '@cic/core/audit/write-audit-log';

export interface ProvisionUserOptions {
  prisma: PrismaClient;
  email: string;
  name?: string | null;
  image?: string | null;
  emailVerified?: Date | null;
}

type Tx = Prisma.TransactionClient;

/**
 * Creates a dashboard user on first sign-in, always with an organization of their own as OWNER (with a
 * billing account), so every signed-in user belongs to at least one organization. Pending invitations
 * for the email stay pending: the user sees them (viewer.invitations) and accepts or declines them;
 * signing up never joins another organization by itself.
 */
export async function provisionUser({ prisma, email, name = null, image = null, emailVerified = null }: ProvisionUserOptions) {
  const normalized = email.trim().toLowerCase();
  return prisma.$transaction(async (tx: Tx) => {
    const user = await tx.user.create({ data: { email: normalized, name, image, emailVerified } });
    const local = normalized.split('@')[0]!.replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'org';
    const org = await tx.organization.create({
      data: { name: `${name ?? local}'s organization`, slug: `${local}-${user.id.slice(-8)}`, billingAccount: { create: {} } },
    });
    await tx.membership.create({ data: { userId: user.id, organizationId: org.id, role: 'OWNER' } });
    await writeAuditLog(tx, { actor: { type: 'USER', id: user.id }, organizationId: org.id, action: 'organization.create', targetType: 'organization', targetId: org.id });
    return user;
  });
}
