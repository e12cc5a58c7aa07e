import type { Invitation, Prisma } from '@cic/db';

export type InvitationStatus = 'PENDING' | 'ACCEPTED' | 'DECLINED' | 'EXPIRED';

/**
 * How long an invitation stays open unless configured otherwise (`INVITATION_VALID_DAYS`).
 * @defaultValue 7
 */
export const DEFAULT_INVITATION_VALID_DAYS = 7;

/** An invitation's state: answered by the invitee (accepted/declined), else pending until it expires. */
export function invitationStatus(inv: Pick<Invitation, 'acceptedAt' | 'declinedAt' | 'expiresAt'>, now = new Date()): InvitationStatus {
  if (inv.acceptedAt) return 'ACCEPTED';
  if (inv.declinedAt) return 'DECLINED';
  return inv.expiresAt > now ? 'PENDING' : 'EXPIRED';
}

/** The invitations an email may still answer, as a Prisma filter. */
export const pendingInvitationsOf = (email: string, now = new Date()): Prisma.InvitationWhereInput => ({
  email: email.trim().toLowerCase(), acceptedAt: null, declinedAt: null, expiresAt: { gt: now },
});

export const expiresAtAfter = (validDays: number, from = new Date()): Date => new Date(from.getTime() + validDays * 86_400_000);
