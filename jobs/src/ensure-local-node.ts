import type { NodeProvider, NodeStatus, PrismaClient } from '@cic/db';
import type { Logger } from '@cic/core/logger';
import { LOCAL_NODE_MODEL } from '@cic/core/bootstrap/default-models';
import type { TopicPublisher } from '@cic/core/lib/topic-bus';
import { launchNode } from '@cic/core/nodes/launch-node';
import { IllegalNodeTransitionError, transitionNode } from '@cic/core/nodes/node-state-machine';
import { LAUNCHING_STATUSES, ROUTABLE_STATUSES } from '@cic/core/nodes/node-status-groups';
import type { Queue } from 'bullmq';

export interface EnsureLocalNodeOptions {
  prisma: PrismaClient;
  queue: Queue;
  bus: TopicPublisher;
  log: Logger;
  /** @defaultValue the first default model (`cic/sim-echo-1`) */
  modelName?: string;
}

/** When this process started: a launch job taken before that was taken by an earlier worker process. */
const PROCESS_STARTED_AT = performance.timeOrigin;

/**
 * At boot (npm start): launches one LOCAL simulated node for the default model unless a node for it
 * is already live or on its way, through the same path as the GraphQL launchNode mutation. A local
 * launch that a previous worker process was running when it died is marked FAILED first instead of
 * being waited for.
 */
export async function ensureLocalNode({ prisma, queue, bus, log, modelName = LOCAL_NODE_MODEL }: EnsureLocalNodeOptions): Promise<string | null> {
  const live = await prisma.node.findFirst({
    where: { model: { name: modelName }, status: { in: [...LAUNCHING_STATUSES, ...ROUTABLE_STATUSES] } },
    select: { id: true, status: true, provider: true },
  });
  if (live && await interruptedLocalLaunch(queue, live)) {
    try {
      await transitionNode({ prisma, bus, nodeId: live.id, to: 'FAILED', reason: 'launch interrupted: the job worker running it exited' });
      log.warn({ nodeId: live.id, status: live.status }, 'the local node launch of a previous worker process was interrupted: marked FAILED');
    } catch (err) {
      if (!(err instanceof IllegalNodeTransitionError)) throw err; // it moved on meanwhile
      return null;
    }
  } else if (live) {
    log.info({ nodeId: live.id, status: live.status }, 'a node for the default model is live; not launching a local one');
    return null;
  }
  const node = await launchNode({
    prisma, queue, actor: { type: 'SYSTEM', id: 'jobs' }, requestId: `boot-${Date.now()}`, modelName, provider: 'LOCAL',
  });
  log.info({ nodeId: node.id, modelName }, 'launching a local simulated node');
  return node.id;
}

/**
 * A LOCAL launch whose job an earlier worker process took and never finished. npm start runs one worker,
 * and a local simulator dies with the worker that started it, so no one is working on that launch; BullMQ
 * would hand the job on only once its lock expired and a stalled check ran (JOBS_LOCK_DURATION_MS +
 * JOBS_STALLED_INTERVAL_MS, about a minute), and the boot node would wait for it.
 */
async function interruptedLocalLaunch(queue: Queue, node: { id: string; status: NodeStatus; provider: NodeProvider }): Promise<boolean> {
  if (node.provider !== 'LOCAL' || !LAUNCHING_STATUSES.includes(node.status)) return false;
  const job = await queue.getJob(`launch-${node.id}`); // node.launch's id: one launch per node
  return !!job && (await job.getState()) === 'active' && (job.processedOn ?? Infinity) < PROCESS_STARTED_AT;
}
