import type { Membership, OrgRole, Prisma } from '@cic/db';
import { AppError } from '../errors.ts';
import { writeAuditLog } from '../audit/write-audit-log.ts';
import { canTouchOwners, type MemberActionContext } from './member-action-options.ts';

export interface ChangeMemberRoleOptions extends MemberActionContext {
  membershipId: string;
  role: OrgRole;
}

/** Refuses a change that would leave the organization without an owner. */
export async function assertOwnerRemains(tx: Prisma.TransactionClient, membership: Membership): Promise<void> {
  if (membership.role !== 'OWNER') return;
  const owners = await tx.membership.count({ where: { organizationId: membership.organizationId, role: 'OWNER' } });
  if (owners <= 1) throw new AppError('CONFLICT', 'An organization needs at least one owner; make someone else owner first.');
}

/** Changes a member's role; only owners touch the OWNER role, and the last owner stays. */
export async function changeMemberRole(options: ChangeMemberRoleOptions): Promise<Membership> {
  const { prisma, actor, requestId, membershipId, role } = options;
  return prisma.$transaction(async (tx) => {
    const current = await tx.membership.findUnique({ where: { id: membershipId } });
    if (!current) throw new AppError('NOT_FOUND', 'Membership not found.');
    if ((current.role === 'OWNER' || role === 'OWNER') && !canTouchOwners(options)) {
      throw new AppError('FORBIDDEN', 'Only owners can grant or take away the OWNER role.', { param: 'role' });
    }
    if (current.role === role) return current;
    if (role !== 'OWNER') await assertOwnerRemains(tx, current);
    const updated = await tx.membership.update({ where: { id: membershipId }, data: { role } });
    await writeAuditLog(tx, {
      actor, requestId, organizationId: current.organizationId, action: 'member.change_role', targetType: 'Membership', targetId: membershipId,
      metadata: { userId: current.userId, from: current.role, to: role },
    });
    return updated;
  });
}
