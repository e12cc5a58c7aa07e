import type { Invitation } from '@cic/db';
import { AppError } from '../errors.ts';
import { writeAuditLog } from '../audit/write-audit-log.ts';
import { DEFAULT_INVITATION_VALID_DAYS, expiresAtAfter } from './invitation-status.ts';
import { canTouchOwners, type MemberActionContext } from './member-action-options.ts';

export interface ResendInvitationOptions extends MemberActionContext {
  invitationId: string;
  /**
   * How long the reopened invitation stays open, in days.
   * @defaultValue 7 (DEFAULT_INVITATION_VALID_DAYS)
   */
  validDays?: number;
}

/** Reopens an invitation that was not accepted (new expiry, a decline forgotten) so it can be sent again. */
export async function resendInvitation(options: ResendInvitationOptions): Promise<Invitation> {
  const { prisma, actor, requestId, invitationId, validDays = DEFAULT_INVITATION_VALID_DAYS } = options;
  return prisma.$transaction(async (tx) => {
    const invitation = await tx.invitation.findUnique({ where: { id: invitationId } });
    if (!invitation) throw new AppError('NOT_FOUND', 'Invitation not found.', { param: 'id' });
    if (invitation.role === 'OWNER' && !canTouchOwners(options)) throw new AppError('FORBIDDEN', 'Only owners can resend an invitation to be owner.');
    if (invitation.acceptedAt) throw new AppError('CONFLICT', 'This invitation was already accepted.', { param: 'id' });
    const updated = await tx.invitation.update({
      where: { id: invitationId },
      data: { expiresAt: expiresAtAfter(validDays), declinedAt: null, invitedById: actor.type === 'USER' ? actor.id : invitation.invitedById },
    });
    await writeAuditLog(tx, {
      actor, requestId, organizationId: invitation.organizationId, action: 'invitation.resend', targetType: 'Invitation', targetId: invitationId,
      metadata: { email: invitation.email, role: invitation.role, expiresAt: updated.expiresAt.toISOString() },
    });
    return updated;
  });
}
