import type { Node } from '@cic/db';
import { IllegalNodeTransitionError, transitionNode } from '@cic/api/services/nodes/node-state-machine';
import { probeVllm } from '../vllm-probe.ts';
import type { JobContext } from './job-context.ts';

async function checkOne(ctx: JobContext, node: Pick<Node, 'id' | 'status' | 'endpointUrl'>): Promise<'ok' | 'failed'> {
  const { prisma, redis, config } = ctx;
  try {
    const load = await probeVllm(node.endpointUrl!, config.HEALTH_PROBE_TIMEOUT_MS);
    await prisma.node.update({
      where: { id: node.id },
      data: { runningRequests: Math.round(load.running), waitingRequests: Math.round(load.waiting), kvCacheUsage: load.kvCacheUsage, lastHealthAt: new Date(), healthFailures: 0 },
    });
    if (node.status === 'UNHEALTHY') await transitionNode({ prisma, redis, nodeId: node.id, to: 'READY', reason: 'health check passed again' });
    return 'ok';
  } catch (err) {
    if (err instanceof IllegalNodeTransitionError) return 'ok';
    const { healthFailures } = await prisma.node.update({ where: { id: node.id }, data: { healthFailures: { increment: 1 } }, select: { healthFailures: true } });
    if (node.status === 'READY' && healthFailures >= config.HEALTH_FAILURE_THRESHOLD) {
      await transitionNode({ prisma, redis, nodeId: node.id, to: 'UNHEALTHY', reason: `${healthFailures} failed health checks: ${(err as Error).message}` })
        .catch((e: unknown) => { if (!(e instanceof IllegalNodeTransitionError)) throw e; });
    }
    return 'failed';
  }
}

/**
 * `nodes.health-check`: probes every READY/UNHEALTHY node's /health and /metrics, stores its load for
 * the proxy's node selection, marks it UNHEALTHY after HEALTH_FAILURE_THRESHOLD consecutive failures
 * and READY again on the first success.
 */
export async function handleHealthCheck(ctx: JobContext): Promise<{ checked: number; failed: number }> {
  const nodes = await ctx.prisma.node.findMany({
    where: { status: { in: ['READY', 'UNHEALTHY'] }, endpointUrl: { not: null } },
    select: { id: true, status: true, endpointUrl: true },
  });
  const results = await Promise.all(nodes.map((n) => checkOne(ctx, n)));
  const failed = results.filter((r) => r === 'failed').length;
  ctx.metrics.healthChecks.inc({ result: 'ok' }, nodes.length - failed);
  ctx.metrics.healthChecks.inc({ result: 'failed' }, failed);
  return { checked: nodes.length, failed };
}
