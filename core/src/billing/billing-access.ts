import { AppError } from '../errors.ts';
import { canManageOrganization, canReadOrganization, isPlatformAdmin, type Operator, type Viewer } from '../auth/viewer.ts';

/**
 * Checks repeated inside the billing services (the GraphQL scopes check first), so a new transport cannot
 * forget them: money moves here.
 */
export function assertPlatformAdmin(viewer: Viewer | Operator): void {
  if (!isPlatformAdmin(viewer)) throw new AppError('FORBIDDEN', 'Only platform admins can do this.');
}

/**
 * Members (and the organization's graphql keys, and platform admins) may read its billing; `manage`
 * (buying credits, the customer portal) needs OWNER or ADMIN. Other tenants get NOT_FOUND, so their
 * organization ids are not confirmed to exist.
 */
export function assertBillingAccess(viewer: Viewer, organizationId: string, options: { manage?: boolean } = {}): void {
  if (!canReadOrganization(viewer, organizationId)) throw new AppError('NOT_FOUND', 'Organization not found.');
  if (options.manage && !canManageOrganization(viewer, organizationId)) {
    throw new AppError('FORBIDDEN', 'Only owners and admins of the organization can manage its billing.');
  }
}
