import type { Node } from '@cic/db';
import { enqueue, isJobPending } from '@cic/core/jobs/enqueue-job';
import { appendNodeLog, IllegalNodeTransitionError, transitionNode } from '@cic/core/nodes/node-state-machine';
import { SERVING_STATUSES } from '@cic/core/nodes/node-status-groups';
import { probeVllm } from '../vllm-probe.ts';
import type { JobContext } from './job-context.ts';
import { openNodeApiKey } from './node-api-key.ts';

type CheckedNode = Pick<Node, 'id' | 'status' | 'endpointUrl' | 'apiKeyCiphertext' | 'lastHealthAt' | 'readyAt' | 'createdAt'>;

/**
 * An UNHEALTHY node that has not passed a health check for UNHEALTHY_TERMINATE_AFTER_SECONDS is
 * terminated (draining what it still runs): a dead cluster keeps costing money and an operator may not
 * be watching. Once per node: a terminate job already queued or running is left alone.
 */
async function terminateIfDeadTooLong(ctx: JobContext, node: CheckedNode): Promise<void> {
  const lastGood = node.lastHealthAt ?? node.readyAt ?? node.createdAt;
  const deadSeconds = Math.floor((Date.now() - lastGood.getTime()) / 1000);
  if (deadSeconds < ctx.config.UNHEALTHY_TERMINATE_AFTER_SECONDS) return;
  if (await isJobPending(ctx.lifecycle, 'node.terminate', { nodeId: node.id })) return;
  const message = `no successful health check for ${deadSeconds} s (UNHEALTHY_TERMINATE_AFTER_SECONDS=${ctx.config.UNHEALTHY_TERMINATE_AFTER_SECONDS}): terminating`;
  await appendNodeLog({ prisma: ctx.prisma, bus: ctx.bus, nodeId: node.id, message });
  await enqueue(ctx.lifecycle, 'node.terminate', { nodeId: node.id });
  ctx.metrics.unhealthyTerminations.inc();
  ctx.log.warn({ nodeId: node.id, deadSeconds }, 'terminating a node that stayed unhealthy');
}

async function checkOne(ctx: JobContext, node: CheckedNode): Promise<'ok' | 'failed'> {
  const { prisma, bus, config } = ctx;
  try {
    const load = await probeVllm(node.endpointUrl!, openNodeApiKey(ctx, node.apiKeyCiphertext), config.HEALTH_PROBE_TIMEOUT_MS);
    await prisma.node.update({
      where: { id: node.id },
      data: { runningRequests: Math.round(load.running), waitingRequests: Math.round(load.waiting), kvCacheUsage: load.kvCacheUsage, lastHealthAt: new Date(), healthFailures: 0 },
    });
    if (node.status === 'UNHEALTHY') await transitionNode({ prisma, bus, nodeId: node.id, to: 'READY', reason: 'health check passed again' });
    return 'ok';
  } catch (err) {
    if (err instanceof IllegalNodeTransitionError) return 'ok';
    const { healthFailures } = await prisma.node.update({ where: { id: node.id }, data: { healthFailures: { increment: 1 } }, select: { healthFailures: true } });
    if (node.status === 'READY' && healthFailures >= config.HEALTH_FAILURE_THRESHOLD) {
      await transitionNode({ prisma, bus, nodeId: node.id, to: 'UNHEALTHY', reason: `${healthFailures} failed health checks: ${(err as Error).message}` })
        .catch((e: unknown) => { if (!(e instanceof IllegalNodeTransitionError)) throw e; });
    }
    if (node.status === 'UNHEALTHY') await terminateIfDeadTooLong(ctx, node);
    return 'failed';
  }
}

/**
 * `nodes.health-check`: probes every READY/UNHEALTHY node's /health and /metrics, stores its load for
 * the proxy's node selection, marks it UNHEALTHY after HEALTH_FAILURE_THRESHOLD consecutive failures,
 * READY again on the first success, and terminates it after UNHEALTHY_TERMINATE_AFTER_SECONDS without one.
 */
export async function handleHealthCheck(ctx: JobContext): Promise<{ checked: number; failed: number }> {
  const nodes = await ctx.prisma.node.findMany({
    where: { status: { in: [...SERVING_STATUSES] }, endpointUrl: { not: null } },
    select: { id: true, status: true, endpointUrl: true, apiKeyCiphertext: true, lastHealthAt: true, readyAt: true, createdAt: true },
  });
  const results = await Promise.all(nodes.map((n) => checkOne(ctx, n)));
  const failed = results.filter((r) => r === 'failed').length;
  ctx.metrics.healthChecks.inc({ result: 'ok' }, nodes.length - failed);
  ctx.metrics.healthChecks.inc({ result: 'failed' }, failed);
  return { checked: nodes.length, failed };
}
