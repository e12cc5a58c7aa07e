import type { NodeStatus } from '@cic/db';
import { parseNodeConfig } from '@cic/core/nodes/node-config';
import { appendNodeLog, IllegalNodeTransitionError, transitionNode } from '@cic/core/nodes/node-state-machine';
import { isRunning, OWNS_CLUSTER_STATUSES, RUNNING_STATUSES } from '@cic/core/nodes/node-status-groups';
import { isAlive } from '../providers/local-provider.ts';
import type { JobContext } from './job-context.ts';

/** Moves a node whose server vanished to its end state through legal transitions. */
async function markVanished(ctx: JobContext, nodeId: string, status: NodeStatus, reason: string): Promise<void> {
  const path: NodeStatus[] = status === 'READY' ? ['UNHEALTHY', 'FAILED'] : status === 'DRAINING' ? ['TERMINATING', 'TERMINATED'] : ['FAILED'];
  try {
    for (const to of path) {
      await transitionNode({ prisma: ctx.prisma, bus: ctx.bus, nodeId, to, reason, data: to === 'TERMINATED' ? { terminatedAt: new Date() } : {} });
    }
  } catch (err) {
    if (!(err instanceof IllegalNodeTransitionError)) throw err; // someone else moved it meanwhile
  }
}

/** Local nodes whose simulator process is gone (worker restarted, process died) → FAILED. */
export async function reconcileLocalNodes(ctx: JobContext): Promise<number> {
  let vanished = 0;
  const local = await ctx.prisma.node.findMany({ where: { provider: 'LOCAL', status: { in: [...RUNNING_STATUSES] } }, select: { id: true, status: true, config: true } });
  for (const node of local) {
    const pid = parseNodeConfig(node.config).localPid;
    if (pid !== undefined && !isAlive(pid)) {
      vanished++;
      await markVanished(ctx, node.id, node.status, `simulator process ${pid} is gone (worker restarted or process died)`);
    }
  }
  return vanished;
}

/**
 * SkyPilot nodes against `sky status`: a node whose cluster vanished is FAILED (TERMINATED when it was
 * draining); a cluster no live node owns is an orphan: logged, counted in `cic_orphan_clusters`, and
 * noted in the node's events when an old node had that name. Orphans are not torn down automatically:
 * an operator decides (they may be someone else's clusters).
 */
async function reconcileSkyPilotNodes(ctx: JobContext): Promise<{ vanished: number; orphans: string[] }> {
  let vanished = 0;
  const orphans: string[] = [];
  // Only ask SkyPilot when it has ever been used: installs without it must not fail every minute.
  if (await ctx.prisma.node.count({ where: { provider: 'SKYPILOT' } }) === 0) return { vanished, orphans };
  const clusters = await ctx.providers.byName.SKYPILOT.listClusters!(ctx.signal);
  const names = new Set(clusters.map((c) => c.name));
  const sky = await ctx.prisma.node.findMany({ where: { provider: 'SKYPILOT', status: { in: [...OWNS_CLUSTER_STATUSES] } }, select: { id: true, status: true, clusterName: true } });
  for (const node of sky) {
    if (isRunning(node.status) && !names.has(node.clusterName)) {
      vanished++;
      await markVanished(ctx, node.id, node.status, `cluster ${node.clusterName} no longer exists in sky status`);
    }
  }
  const owned = new Set(sky.map((n) => n.clusterName));
  for (const cluster of clusters.filter((c) => !owned.has(c.name))) {
    orphans.push(cluster.name);
    const former = await ctx.prisma.node.findUnique({ where: { clusterName: cluster.name }, select: { id: true, status: true } });
    ctx.log.warn({ cluster: cluster.name, status: cluster.status, nodeId: former?.id }, 'orphan SkyPilot cluster (no live node owns it): run `sky down` if it is not needed');
    if (former) await appendNodeLog({ prisma: ctx.prisma, bus: ctx.bus, nodeId: former.id, message: `orphan cluster ${cluster.name} (${cluster.status}) still exists although the node is ${former.status}` });
  }
  ctx.metrics.orphanClusters.set(orphans.length);
  return { vanished, orphans };
}

/** `nodes.reconcile`: compares what the providers run with the database and fixes drift. */
export async function handleReconcile(ctx: JobContext): Promise<{ vanished: number; orphans: string[] }> {
  const local = await reconcileLocalNodes(ctx);
  const sky = await reconcileSkyPilotNodes(ctx);
  return { vanished: local + sky.vanished, orphans: sky.orphans };
}
