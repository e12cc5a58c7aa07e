import type { Invitation, Prisma, PrismaClient } from '@cic/db';
import { AppError } from '../errors.ts';
import { invitationStatus } from './invitation-status.ts';

/** What accepting or declining needs: the signed-in user answering and the invitation's id. */
export interface AnswerInvitationOptions {
  prisma: PrismaClient;
  /** The signed-in dashboard user (usr_…); API keys never answer invitations. */
  userId: string;
  invitationId: string;
  requestId: string;
}

/**
 * The invitation addressed to this user's email and still open. Anyone else's invitation is
 * NOT_FOUND (the same answer as an unknown id), so ids of other people's invitations confirm nothing.
 */
export async function openInvitationFor(tx: Prisma.TransactionClient, userId: string, invitationId: string): Promise<Invitation> {
  const user = await tx.user.findUnique({ where: { id: userId }, select: { email: true } });
  const invitation = user
    ? await tx.invitation.findFirst({ where: { id: invitationId, email: user.email.trim().toLowerCase() } })
    : null;
  if (!invitation) throw new AppError('NOT_FOUND', 'Invitation not found.', { param: 'id' });
  const status = invitationStatus(invitation);
  if (status === 'EXPIRED') throw new AppError('CONFLICT', 'This invitation has expired; ask the organization for a new one.', { param: 'id' });
  if (status !== 'PENDING') throw new AppError('CONFLICT', `This invitation was already ${status.toLowerCase()}.`, { param: 'id' });
  return invitation;
}

/**
 * Marks the invitation answered only if it is still open at this instant (compare-and-set), so two
 * concurrent answers cannot both win.
 */
export async function markAnswered(tx: Prisma.TransactionClient, invitation: Invitation, data: { acceptedAt: Date } | { declinedAt: Date }): Promise<void> {
  const { count } = await tx.invitation.updateMany({
    where: { id: invitation.id, acceptedAt: null, declinedAt: null, expiresAt: { gt: new Date() } },
    data,
  });
  if (count !== 1) throw new AppError('CONFLICT', 'This invitation was answered or expired meanwhile.', { param: 'id' });
}
