import type { PrismaClient } from '@cic/db';
import type { Logger } from '@cic/core/logger';
import { LOCAL_NODE_MODEL } from '@cic/core/bootstrap/default-models';
import { launchNode } from '@cic/core/nodes/launch-node';
import { LAUNCHING_STATUSES, ROUTABLE_STATUSES } from '@cic/core/nodes/node-status-groups';
import type { Queue } from 'bullmq';

export interface EnsureLocalNodeOptions {
  prisma: PrismaClient;
  queue: Queue;
  log: Logger;
  /** @defaultValue the first default model (`cic/sim-echo-1`) */
  modelName?: string;
}

/**
 * At boot (npm start): launches one LOCAL simulated node for the default model unless a node for it
 * is already live or on its way, through the same path as the GraphQL launchNode mutation.
 */
export async function ensureLocalNode({ prisma, queue, log, modelName = LOCAL_NODE_MODEL }: EnsureLocalNodeOptions): Promise<string | null> {
  const live = await prisma.node.findFirst({
    where: { model: { name: modelName }, status: { in: [...LAUNCHING_STATUSES, ...ROUTABLE_STATUSES] } },
    select: { id: true, status: true },
  });
  if (live) {
    log.info({ nodeId: live.id, status: live.status }, 'a node for the default model is live; not launching a local one');
    return null;
  }
  const node = await launchNode({
    prisma, queue, actor: { type: 'SYSTEM', id: 'jobs' }, requestId: `boot-${Date.now()}`, modelName, provider: 'LOCAL',
  });
  log.info({ nodeId: node.id, modelName }, 'launching a local simulated node');
  return node.id;
}
