import type { Membership } from '@cic/db';
import { AppError } from '../errors.ts';
import { writeAuditLog } from '../audit/write-audit-log.ts';
import { assertOwnerRemains } from './change-member-role.ts';
import { canTouchOwners, type MemberActionContext } from './member-action-options.ts';

export interface RemoveMemberOptions extends MemberActionContext {
  membershipId: string;
}

/** Removes a member (not the last owner; owners only by owners) and returns the deleted row. */
export async function removeMember(options: RemoveMemberOptions): Promise<Membership> {
  const { prisma, actor, requestId, membershipId } = options;
  return prisma.$transaction(async (tx) => {
    const current = await tx.membership.findUnique({ where: { id: membershipId } });
    if (!current) throw new AppError('NOT_FOUND', 'Membership not found.');
    if (current.role === 'OWNER' && !canTouchOwners(options)) throw new AppError('FORBIDDEN', 'Only owners can remove an owner.');
    await assertOwnerRemains(tx, current);
    await tx.membership.delete({ where: { id: membershipId } });
    await writeAuditLog(tx, {
      actor, requestId, organizationId: current.organizationId, action: 'member.remove', targetType: 'Membership', targetId: membershipId,
      metadata: { userId: current.userId, role: current.role },
    });
    return current;
  });
}
