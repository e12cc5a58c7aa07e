import type { Invitation, OrgRole } from '@cic/db';
import { AppError } from '../errors.ts';
import { writeAuditLog } from '../audit/write-audit-log.ts';
import { canTouchOwners, type MemberActionContext } from './member-action-options.ts';

export interface InviteMemberOptions extends MemberActionContext {
  organizationId: string;
  email: string;
  role: OrgRole;
  /**
   * How long an invitation stays valid, in days.
   * @defaultValue 14
   */
  validDays?: number;
}

/**
 * Invites an email address. The Invitation row is always written (the audit trail of who invited whom);
 * when a user with that email already exists they become a member at once and the invitation is
 * marked accepted, otherwise they join on first sign-in (the dashboard's auth adapter).
 */
export async function inviteMember(options: InviteMemberOptions): Promise<Invitation> {
  const { prisma, actor, requestId, organizationId, role, validDays = 14 } = options;
  const email = options.email.trim().toLowerCase();
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email) || email.length > 254) throw new AppError('BAD_REQUEST', 'Enter a valid email address.', { param: 'email' });
  if (role === 'OWNER' && !canTouchOwners(options)) throw new AppError('FORBIDDEN', 'Only owners can invite owners.', { param: 'role' });
  return prisma.$transaction(async (tx) => {
    const user = await tx.user.findUnique({ where: { email }, select: { id: true } });
    if (user && (await tx.membership.findUnique({ where: { userId_organizationId: { userId: user.id, organizationId } } }))) {
      throw new AppError('CONFLICT', `${email} is already a member of this organization.`, { param: 'email' });
    }
    const expiresAt = new Date(Date.now() + validDays * 86_400_000);
    const acceptedAt = user ? new Date() : null;
    const invitedById = actor.type === 'USER' ? actor.id : null;
    const invitation = await tx.invitation.upsert({
      where: { organizationId_email: { organizationId, email } },
      create: { organizationId, email, role, invitedById, expiresAt, acceptedAt },
      update: { role, invitedById, expiresAt, acceptedAt },
    });
    if (user) await tx.membership.create({ data: { userId: user.id, organizationId, role } });
    await writeAuditLog(tx, {
      actor, requestId, organizationId, action: 'member.invite', targetType: 'Invitation', targetId: invitation.id,
      metadata: { email, role, joinedAtOnce: Boolean(user) },
    });
    return invitation;
  });
}
