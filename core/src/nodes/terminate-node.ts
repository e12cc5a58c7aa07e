import type { Node, PrismaClient } from '@cic/db';
import type { Queue } from 'bullmq';
import { AppError } from '../errors.ts';
import type { TopicPublisher } from '../lib/topic-bus.ts';
import type { Actor } from '../audit/write-audit-log.ts';
import { writeAuditLog } from '../audit/write-audit-log.ts';
import { enqueue } from '../jobs/enqueue-job.ts';
import { IllegalNodeTransitionError, NodeNotFoundError, transitionNode } from './node-state-machine.ts';
import { isServing, isTerminationUnderWay } from './node-status-groups.ts';

export interface TerminateNodeOptions {
  prisma: PrismaClient;
  bus: TopicPublisher;
  /** The `node-lifecycle` BullMQ queue. */
  queue: Queue;
  actor: Actor;
  requestId: string;
  nodeId: string;
}

/**
 * Starts a node's termination: a serving node (READY/UNHEALTHY) drains first, any other live node goes
 * straight to TERMINATING; then `node.terminate` is enqueued. Terminated nodes are a CONFLICT.
 */
export async function terminateNode({ prisma, bus, queue, actor, requestId, nodeId }: TerminateNodeOptions): Promise<Node> {
  const node = await prisma.node.findUnique({ where: { id: nodeId }, select: { status: true } });
  if (!node) throw new AppError('NOT_FOUND', 'Node not found.');
  if (!isTerminationUnderWay(node.status)) {
    const to = isServing(node.status) ? 'DRAINING' : 'TERMINATING';
    try {
      await transitionNode({ prisma, bus, nodeId, to, reason: `termination requested by ${actor.id}` });
    } catch (err) {
      if (err instanceof NodeNotFoundError) throw new AppError('NOT_FOUND', 'Node not found.');
      if (err instanceof IllegalNodeTransitionError) throw new AppError('CONFLICT', `The node is ${err.from}; it cannot be terminated now.`);
      throw err;
    }
  }
  await writeAuditLog(prisma, { actor, requestId, action: 'node.terminate', targetType: 'Node', targetId: nodeId, metadata: { from: node.status } });
  await enqueue(queue, 'node.terminate', { nodeId });
  return prisma.node.findUniqueOrThrow({ where: { id: nodeId } });
}
