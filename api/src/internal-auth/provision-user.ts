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
 * Creates a dashboard user on first sign-in. Pending, unexpired invitations for the email become
 * memberships; without one the user gets an organization of their own as OWNER (with a billing
 * account), so every signed-in user belongs to at least one organization.
 */
export async function provisionUser({ prisma, email, name = null, image = null, emailVerified = null }: ProvisionUserOptions) {
  const normalized = email.trim().toLowerCase();
  return prisma.$transaction(async (tx: Tx) => {
    const user = await tx.user.create({ data: { email: normalized, name, image, emailVerified } });
    const actor = { type: 'USER', id: user.id } as const;
    const invitations = await tx.invitation.findMany({
      where: { email: normalized, acceptedAt: null, expiresAt: { gt: new Date() } },
    });
    for (const inv of invitations) {
      await tx.membership.create({ data: { userId: user.id, organizationId: inv.organizationId, role: inv.role } });
      await tx.invitation.update({ where: { id: inv.id }, data: { acceptedAt: new Date() } });
      await writeAuditLog(tx, { actor, organizationId: inv.organizationId, action: 'invitation.accept', targetType: 'invitation', targetId: inv.id });
    }
    if (invitations.length === 0) {
      const local = normalized.split('@')[0]!.replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'org';
      const org = await tx.organization.create({
        data: { name: `${name ?? local}'s organization`, slug: `${local}-${user.id.slice(-8)}`, billingAccount: { create: {} } },
      });
      await tx.membership.create({ data: { userId: user.id, organizationId: org.id, role: 'OWNER' } });
      await writeAuditLog(tx, { actor, organizationId: org.id, action: 'organization.create', targetType: 'organization', targetId: org.id });
    }
    return user;
  });
}
