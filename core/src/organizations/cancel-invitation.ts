import type { Invitation } from '@cic/db';
import { AppError } from '../errors.ts';
import { writeAuditLog } from '../audit/write-audit-log.ts';
import { canTouchOwners, type MemberActionContext } from './member-action-options.ts';

export interface CancelInvitationOptions extends MemberActionContext {
  invitationId: string;
}

/**
 * The organization takes back an invitation that was not accepted (pending, declined or expired):
 * the row is deleted, the audit log keeps who invited whom. Only owners cancel OWNER invitations.
 */
export async function cancelInvitation(options: CancelInvitationOptions): Promise<Invitation> {
  const { prisma, actor, requestId, invitationId } = options;
  return prisma.$transaction(async (tx) => {
    const invitation = await tx.invitation.findUnique({ where: { id: invitationId } });
    if (!invitation) throw new AppError('NOT_FOUND', 'Invitation not found.', { param: 'id' });
    if (invitation.role === 'OWNER' && !canTouchOwners(options)) throw new AppError('FORBIDDEN', 'Only owners can cancel an invitation to be owner.');
    if (invitation.acceptedAt) throw new AppError('CONFLICT', 'This invitation was accepted; remove the member instead.', { param: 'id' });
    await tx.invitation.delete({ where: { id: invitationId } });
    await writeAuditLog(tx, {
      actor, requestId, organizationId: invitation.organizationId, action: 'invitation.cancel', targetType: 'Invitation', targetId: invitationId,
      metadata: { email: invitation.email, role: invitation.role },
    });
    return invitation;
  });
}
