import type { JobContext } from './job-context.ts';

/** A node with its model name, or null when it was deleted. */
export const loadNode = (ctx: Pick<JobContext, 'prisma'>, nodeId: string) =>
  ctx.prisma.node.findUnique({ where: { id: nodeId }, include: { model: { select: { name: true } } } });
