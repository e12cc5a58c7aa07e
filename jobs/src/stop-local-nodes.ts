import type { NodeStatus, PrismaClient } from '@cic/db';
import type { TopicPublisher } from '@cic/core/lib/topic-bus';
import type { Logger } from '@cic/core/logger';
import { transitionNode } from '@cic/core/nodes/node-state-machine';
import type { LocalProvider } from './providers/local-provider.ts';

const TEARDOWN: Partial<Record<NodeStatus, NodeStatus[]>> = {
  READY: ['DRAINING', 'TERMINATING', 'TERMINATED'],
  UNHEALTHY: ['DRAINING', 'TERMINATING', 'TERMINATED'],
  DRAINING: ['TERMINATING', 'TERMINATED'],
  PENDING: ['TERMINATING', 'TERMINATED'],
  PROVISIONING: ['TERMINATING', 'TERMINATED'],
  STARTING: ['TERMINATING', 'TERMINATED'],
  TERMINATING: ['TERMINATED'],
};

/**
 * Worker shutdown: local simulator nodes are children of this process and die with it, so they are
 * stopped and recorded TERMINATED instead of being left READY for the proxy to route to.
 */
export async function stopLocalNodes({ prisma, bus, local, log }: { prisma: PrismaClient; bus: TopicPublisher; local: LocalProvider; log: Logger }): Promise<void> {
  const clusters = local.running();
  await local.stopAll();
  if (!clusters.length) return;
  const nodes = await prisma.node.findMany({ where: { clusterName: { in: clusters } }, select: { id: true, status: true } });
  for (const node of nodes) {
    try {
      for (const to of TEARDOWN[node.status] ?? []) {
        await transitionNode({ prisma, bus, nodeId: node.id, to, reason: 'job worker stopped: local simulator stopped with it', data: to === 'TERMINATED' ? { terminatedAt: new Date() } : {} });
      }
    } catch (err) {
      log.warn({ err, nodeId: node.id }, 'could not record the local node as terminated');
    }
  }
}
