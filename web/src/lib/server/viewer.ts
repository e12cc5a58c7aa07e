import { error, type Cookies, type RequestEvent } from '@sveltejs/kit';
import { ApiError, ApiUnavailableError, gql, ORG_COOKIE } from './api';

export type OrgRole = 'OWNER' | 'ADMIN' | 'MEMBER';

export interface Viewer {
  id: string;
  email: string;
  name: string | null;
  isPlatformAdmin: boolean;
  memberships: { role: OrgRole; organization: { id: string; name: string } }[];
  /** Invitations still open for the user to accept or decline (the layout's banner counts them). */
  invitations: { id: string }[];
}

export const VIEWER_QUERY = /* GraphQL */ `
  query Viewer {
    viewer {
      id email name isPlatformAdmin
      memberships { role organization { id name } }
      invitations { id }
    }
  }
`;

/** The organization the user is looking at: the cookie's choice when still a member, else the first. */
export function currentMembership(viewer: Viewer, cookies: Cookies) {
  const chosen = cookies.get(ORG_COOKIE);
  return viewer.memberships.find((m) => m.organization.id === chosen) ?? viewer.memberships[0] ?? null;
}

export function chooseOrganization(cookies: Cookies, organizationId: string): void {
  cookies.set(ORG_COOKIE, organizationId, { path: '/', httpOnly: true, sameSite: 'lax', maxAge: 365 * 24 * 3600 });
}

export interface ViewerContext {
  viewer: Viewer;
  organization: { id: string; name: string; role: OrgRole } | null;
  /** Owners and admins manage their organization; platform admins operate nodes and prices. */
  canManageOrg: boolean;
}

/**
 * The signed-in user with their current organization and role: loaded once per page by the (app)
 * layout, and again by form actions (which have no parent data) so each action authorizes itself.
 */
export async function viewerContext(event: Pick<RequestEvent, 'locals' | 'fetch' | 'url' | 'cookies'>): Promise<ViewerContext> {
  let viewer: Viewer;
  try {
    viewer = (await gql<{ viewer: Viewer }>(event, VIEWER_QUERY)).viewer;
  } catch (err) {
    if (err instanceof ApiUnavailableError) error(503, { message: 'The API is not reachable, so the dashboard cannot load.', hint: 'Check that the API is running (npm start starts it), then reload.' });
    if (err instanceof ApiError) error(502, { message: `The API refused to load your account. ${err.sentence}`, hint: 'Sign out and in again; if it persists, check the API log.' });
    throw err;
  }
  const membership = currentMembership(viewer, event.cookies);
  const orgRole = membership?.role ?? null;
  return {
    viewer,
    organization: membership ? { ...membership.organization, role: membership.role } : null,
    canManageOrg: viewer.isPlatformAdmin || orgRole === 'OWNER' || orgRole === 'ADMIN',
  };
}
