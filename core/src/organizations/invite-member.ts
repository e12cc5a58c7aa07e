import type { Invitation, OrgRole } from '@cic/db';
import { AppError } from '../errors.ts';
import { writeAuditLog } from '../audit/write-audit-log.ts';
import { DEFAULT_INVITATION_VALID_DAYS, expiresAtAfter } from './invitation-status.ts';
import { canTouchOwners, type MemberActionContext } from './member-action-options.ts';

export interface InviteMemberOptions extends MemberActionContext {
  organizationId: string;
  email: string;
  role: OrgRole;
  /**
   * How long the invitation stays open, in days.
   * @defaultValue 7 (DEFAULT_INVITATION_VALID_DAYS)
   */
  validDays?: number;
}

/**
 * Invites an email address: always a PENDING invitation that only the invitee can accept
 * (accept-invitation.ts). Nothing here depends on whether an account exists for the email, so the
 * answer, the audit entry and the timing tell the inviter nothing about other tenants' users.
 * Inviting the same email again reopens its invitation with the new role and expiry.
 */
export async function inviteMember(options: InviteMemberOptions): Promise<Invitation> {
  const { prisma, actor, requestId, organizationId, role, validDays = DEFAULT_INVITATION_VALID_DAYS } = options;
  const email = options.email.trim().toLowerCase();
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email) || email.length > 254) throw new AppError('BAD_REQUEST', 'Enter a valid email address.', { param: 'email' });
  if (role === 'OWNER' && !canTouchOwners(options)) throw new AppError('FORBIDDEN', 'Only owners can invite owners.', { param: 'role' });
  return prisma.$transaction(async (tx) => {
    // The inviter sees this organization's members anyway, so refusing one reveals nothing new.
    if (await tx.membership.findFirst({ where: { organizationId, user: { email: { equals: email, mode: 'insensitive' } } }, select: { id: true } })) {
      throw new AppError('CONFLICT', `${email} is already a member of this organization.`, { param: 'email' });
    }
    const expiresAt = expiresAtAfter(validDays);
    const invitedById = actor.type === 'USER' ? actor.id : null;
    const invitation = await tx.invitation.upsert({
      where: { organizationId_email: { organizationId, email } },
      create: { organizationId, email, role, invitedById, expiresAt },
      update: { role, invitedById, expiresAt, acceptedAt: null, declinedAt: null },
    });
    await writeAuditLog(tx, {
      actor, requestId, organizationId, action: 'member.invite', targetType: 'Invitation', targetId: invitation.id, metadata: { email, role },
    });
    return invitation;
  });
}
