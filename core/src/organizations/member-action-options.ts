import type { OrgRole, PrismaClient } from '@cic/db';
import type { Actor } from '../audit/write-audit-log.ts';

/** What every membership service needs besides its own arguments. */
export interface MemberActionContext {
  prisma: PrismaClient;
  actor: Actor;
  requestId: string;
  /** The acting user's role in the organization (null for platform admins acting from outside). */
  actorRole: OrgRole | null;
  /** Platform admins may do what an OWNER may. */
  actorIsPlatformAdmin: boolean;
}

/** Only owners (and platform admins) may create, remove or demote owners. */
export const canTouchOwners = (ctx: Pick<MemberActionContext, 'actorRole' | 'actorIsPlatformAdmin'>): boolean =>
  ctx.actorIsPlatformAdmin || ctx.actorRole === 'OWNER';
