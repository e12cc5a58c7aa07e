import type { OrgRole } from '@cic/db';
import type { Actor } from '../audit/write-audit-log.ts';

/** A signed-in dashboard user (session token). */
export interface UserViewer {
  kind: 'user';
  userId: string;
  isPlatformAdmin: boolean;
  /** Organization id → role, read once per request (or per WebSocket connection). */
  roles: ReadonlyMap<string, OrgRole>;
  /** The organization picked by `x-organization-id`, else the first membership. */
  selectedOrganizationId: string | null;
  expiresAt: Date;
}

/** An integrator's API key with the `graphql` scope: acts for its organization with MEMBER rights. */
export interface ApiKeyViewer {
  kind: 'apiKey';
  keyId: string;
  prefix: string;
  organizationId: string;
  selectedOrganizationId: string;
}

export interface AnonymousViewer {
  kind: 'anonymous';
  selectedOrganizationId: null;
}

export type Viewer = UserViewer | ApiKeyViewer | AnonymousViewer;

export const ANONYMOUS: AnonymousViewer = { kind: 'anonymous', selectedOrganizationId: null };

/**
 * Someone running the admin CLI (`cic`) with the database's credentials: already above every platform
 * check, so the platform-admin services accept them too. No transport ever makes one.
 */
export interface Operator {
  kind: 'operator';
  /** Recorded as the audit log's SYSTEM actor, e.g. `cli`. */
  name: string;
}

/** The viewer's role in an organization (API keys act as MEMBER of their own), or null. */
export function roleIn(viewer: Viewer, organizationId: string): OrgRole | null {
  if (viewer.kind === 'user') return viewer.roles.get(organizationId) ?? null;
  if (viewer.kind === 'apiKey') return viewer.organizationId === organizationId ? 'MEMBER' : null;
  return null;
}

export const isPlatformAdmin = (viewer: Viewer | Operator): boolean => viewer.kind === 'operator' || (viewer.kind === 'user' && viewer.isPlatformAdmin);

/** May read the organization's data: a member, its key, or a platform admin. */
export const canReadOrganization = (viewer: Viewer, organizationId: string): boolean =>
  isPlatformAdmin(viewer) || roleIn(viewer, organizationId) !== null;

/** May manage keys and members: OWNER or ADMIN of it, or a platform admin. */
export function canManageOrganization(viewer: Viewer, organizationId: string): boolean {
  const role = roleIn(viewer, organizationId);
  return isPlatformAdmin(viewer) || role === 'OWNER' || role === 'ADMIN';
}

/** An actor for the audit log. */
export function actorOf(viewer: Viewer | Operator): Actor {
  if (viewer.kind === 'operator') return { type: 'SYSTEM', id: viewer.name };
  if (viewer.kind === 'user') return { type: 'USER', id: viewer.userId };
  if (viewer.kind === 'apiKey') return { type: 'API_KEY', id: viewer.keyId };
  throw new Error('anonymous viewers cannot act');
}
