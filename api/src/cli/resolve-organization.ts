import type { PrismaClient } from '@cic/db';
import { AppError } from '@cic/core/errors';

/** An organization named by its id (`org_…`) or its slug, as operators copy them from the dashboard; an unknown one is bad input. */
export async function resolveOrganization(prisma: PrismaClient, idOrSlug: string): Promise<{ id: string; name: string; slug: string }> {
  const org = await prisma.organization.findFirst({ where: { OR: [{ id: idOrSlug }, { slug: idOrSlug }] }, select: { id: true, name: true, slug: true } });
  if (!org) throw new AppError('BAD_REQUEST', `There is no organization with the id or slug "${idOrSlug}".`);
  return org;
}
