import type { Prisma } from '@cic/db';
import { AppError } from '@cic/core/errors';
import type { Viewer } from '@cic/core/auth/viewer';

/**
 * The organizations a viewer may read, as a Prisma filter. Every tenant-owned lookup goes through it,
 * so another tenant's object is simply not found (never loaded, then hidden).
 */
export function readableOrganizations(viewer: Viewer): Prisma.OrganizationWhereInput {
  if (viewer.kind === 'user') return viewer.isPlatformAdmin ? {} : { memberships: { some: { userId: viewer.userId } } };
  if (viewer.kind === 'apiKey') return { id: viewer.organizationId };
  return { id: { in: [] } };
}

export const notFound = (what: string) => new AppError('NOT_FOUND', `${what} not found.`, { param: 'id' });
