import type { Prisma } from '@cic/db';
import type { PayloadOf } from '@cic/core/jobs/job-catalog';
import { InvalidNodeConfigError, parseNodeConfig } from '@cic/core/nodes/node-config';
import { IllegalNodeTransitionError, transitionNode } from '@cic/core/nodes/node-state-machine';
import { isLaunching } from '@cic/core/nodes/node-status-groups';
import { UnrecoverableError } from 'bullmq';
import { ProviderError } from '../providers/types.ts';
import { waitForVllm } from '../vllm-probe.ts';
import type { JobContext } from './job-context.ts';
import { loadNode } from './load-node.ts';
import { nodeApiKeyFor } from './node-api-key.ts';
import { nodeLogger } from './node-log.ts';

export interface LaunchAttempt {
  /** True when BullMQ will not retry this job after a failure. */
  finalAttempt: boolean;
}

/**
 * `node.launch`: PENDING → PROVISIONING → STARTING → READY. Idempotent on the node: it resumes from
 * the node's current status (a retry after a worker crash re-attaches to the same cluster), does
 * nothing for a node that is already past launching, and stops quietly when the node was terminated
 * meanwhile (its transitions are then refused). Provider failures end FAILED with their message.
 */
export async function handleNodeLaunch(ctx: JobContext, { nodeId }: PayloadOf<'node.launch'>, { finalAttempt }: LaunchAttempt): Promise<string> {
  const initial = await loadNode(ctx, nodeId);
  if (!initial) return 'node deleted';
  if (!isLaunching(initial.status)) return `node already ${initial.status}`;
  const log = nodeLogger(ctx, nodeId);
  const move = (to: 'PROVISIONING' | 'STARTING' | 'READY', reason: string, data?: { endpointUrl?: string; readyAt?: Date }) =>
    transitionNode({ prisma: ctx.prisma, bus: ctx.bus, nodeId, to, reason, data });
  try {
    const config = parseNodeConfig(initial.config);
    const apiKey = await nodeApiKeyFor(ctx, initial);
    if (initial.status === 'PENDING') await move('PROVISIONING', `provisioning (${initial.provider})`);
    else await log(`resuming launch from ${initial.status} (attempt after a failure or worker restart)`);
    let endpointUrl = initial.endpointUrl;
    // A SkyPilot cluster that reached STARTING already runs vLLM: launching again would submit a second server.
    if (initial.status !== 'STARTING' || initial.provider === 'LOCAL' || !endpointUrl) {
      const node = { ...initial, status: 'PROVISIONING' as const };
      const launched = await ctx.providers.byName[initial.provider].launch({ node, config, apiKey, signal: ctx.signal, log });
      endpointUrl = launched.endpointUrl;
      if (launched.config) {
        await ctx.prisma.node.update({ where: { id: nodeId }, data: { config: { ...(initial.config as object), ...launched.config } as Prisma.InputJsonObject } });
      }
    }
    await log.flush();
    if (initial.status === 'STARTING') {
      await ctx.prisma.node.update({ where: { id: nodeId }, data: { endpointUrl } });
    } else {
      await move('STARTING', `endpoint ${endpointUrl}; waiting for vLLM /health and /v1/models`, { endpointUrl: endpointUrl! });
    }
    const ready = AbortSignal.any([ctx.signal, AbortSignal.timeout(ctx.config.NODE_READY_TIMEOUT_SECONDS * 1000)]);
    await waitForVllm({ baseUrl: endpointUrl!, model: initial.model.name, apiKey, signal: ready, onWait: (p) => void log(`waiting for vLLM: ${p}`) })
      .catch((err: unknown) => { throw new ProviderError((err as Error).message); });
    await move('READY', `vLLM answers /health and serves ${initial.model.name}`, { readyAt: new Date() });
    ctx.metrics.nodeLaunches.inc({ provider: initial.provider, outcome: 'ready' });
    return 'ready';
  } catch (err) {
    await log.flush();
    if (err instanceof IllegalNodeTransitionError) {
      await log(`launch stopped: the node is now ${err.from}`);
      return `node moved to ${err.from}`;
    }
    if (ctx.stopping.aborted) {
      await log('launch interrupted: the worker is stopping; the next attempt resumes from here');
      throw err;
    }
    const message = (err as Error).message;
    const permanent = err instanceof ProviderError || err instanceof InvalidNodeConfigError || ctx.signal.aborted;
    if (!permanent && !finalAttempt) {
      await log(`launch attempt failed, will retry: ${message}`);
      throw err;
    }
    await transitionNode({ prisma: ctx.prisma, bus: ctx.bus, nodeId, to: 'FAILED', reason: message })
      .catch((e: unknown) => ctx.log.warn({ err: e, nodeId }, 'could not mark node FAILED'));
    ctx.metrics.nodeLaunches.inc({ provider: initial.provider, outcome: 'failed' });
    throw new UnrecoverableError(message);
  }
}
