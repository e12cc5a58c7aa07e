import type { Prisma } from '@cic/db';

/** Whether an organization may list and call a model: public ones are everyone's, limited ones their organizations'. */
export function modelVisibleTo(model: { isPublic: boolean; organizationIds: readonly string[] }, organizationId: string | null): boolean {
  return model.isPublic || (organizationId !== null && model.organizationIds.includes(organizationId));
}

/** The same rule as a Prisma filter, on enabled models (what an organization's members and keys see). */
export function visibleModelsWhere(organizationId: string | null): Prisma.ServedModelWhereInput {
  return { enabled: true, OR: [{ isPublic: true }, ...(organizationId ? [{ access: { some: { organizationId } } }] : [])] };
}
