import type { Membership } from '@cic/db';
import { AppError } from '../errors.ts';
import { writeAuditLog } from '../audit/write-audit-log.ts';
import { markAnswered, openInvitationFor, type AnswerInvitationOptions } from './invitee-invitation.ts';

/** The invitee accepts: they become a member with the invited role, audited in the organization. */
export async function acceptInvitation({ prisma, userId, invitationId, requestId }: AnswerInvitationOptions): Promise<Membership> {
  return prisma.$transaction(async (tx) => {
    const invitation = await openInvitationFor(tx, userId, invitationId);
    const { organizationId, role } = invitation;
    if (await tx.membership.findUnique({ where: { userId_organizationId: { userId, organizationId } }, select: { id: true } })) {
      throw new AppError('CONFLICT', 'You are already a member of this organization.', { param: 'id' });
    }
    await markAnswered(tx, invitation, { acceptedAt: new Date() });
    const membership = await tx.membership.create({ data: { userId, organizationId, role } });
    await writeAuditLog(tx, {
      actor: { type: 'USER', id: userId }, requestId, organizationId, action: 'invitation.accept', targetType: 'Invitation', targetId: invitation.id,
      metadata: { role, membershipId: membership.id },
    });
    return membership;
  });
}
