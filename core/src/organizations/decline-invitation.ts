import type { Invitation } from '@cic/db';
import { writeAuditLog } from '../audit/write-audit-log.ts';
import { markAnswered, openInvitationFor, type AnswerInvitationOptions } from './invitee-invitation.ts';

/** The invitee declines: the invitation stays (DECLINED) until the organization resends or cancels it. */
export async function declineInvitation({ prisma, userId, invitationId, requestId }: AnswerInvitationOptions): Promise<Invitation> {
  return prisma.$transaction(async (tx) => {
    const invitation = await openInvitationFor(tx, userId, invitationId);
    const declinedAt = new Date();
    await markAnswered(tx, invitation, { declinedAt });
    await writeAuditLog(tx, {
      actor: { type: 'USER', id: userId }, requestId, organizationId: invitation.organizationId, action: 'invitation.decline',
      targetType: 'Invitation', targetId: invitation.id,
    });
    return { ...invitation, declinedAt };
  });
}
