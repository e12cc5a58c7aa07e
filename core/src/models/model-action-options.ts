import type { Prisma, PrismaClient, ServedModel } from '@cic/db';
import type { Operator, Viewer } from '../auth/viewer.ts';
import { AppError } from '../errors.ts';
import type { TopicPublisher } from '../lib/topic-bus.ts';

/** What every catalog service needs besides its own arguments. */
export interface ModelActionContext {
  prisma: PrismaClient;
  /** Announces `modelChanged`, so API instances re-read the catalog at once. */
  bus: TopicPublisher;
  /** A platform admin, or the admin CLI's operator. */
  viewer: Viewer | Operator;
  /** The request that asked (audit log). */
  requestId?: string | null;
}

/** Refuses organization ids that do not exist (a limited model must name real organizations). */
export async function assertOrganizationsExist(tx: Prisma.TransactionClient, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  const found = await tx.organization.findMany({ where: { id: { in: [...ids] } }, select: { id: true } });
  const missing = ids.filter((id) => !found.some((o) => o.id === id));
  if (missing.length) throw new AppError('BAD_REQUEST', `Invalid organizationIds: no organization ${missing.join(', ')}.`, { param: 'organizationIds' });
}

/** After the commit (the bus never rejects: it queues the event while Redis is away). */
export async function publishModelChanged(bus: TopicPublisher, model: Pick<ServedModel, 'id' | 'name'>): Promise<void> {
  await bus.publish('modelChanged', { modelId: model.id, name: model.name });
}
