import type { NodeStatus, PrismaClient } from '@cic/db';
import type { TopicPublisher } from '../lib/topic-bus.ts';
import { withoutServerPaths } from './node-event-text.ts';

/**
 * The one node lifecycle, shared by api and jobs:
 * PENDING → PROVISIONING → STARTING → READY ↔ UNHEALTHY → DRAINING → TERMINATING → TERMINATED,
 * FAILED from any launch step. Terminating is possible from every live state (an admin can cancel a launch).
 * The groups other code asks about (launching, routable, live, owns a cluster…) are in node-status-groups.ts.
 */
export const NODE_TRANSITIONS: Readonly<Record<NodeStatus, readonly NodeStatus[]>> = {
  PENDING: ['PROVISIONING', 'FAILED', 'TERMINATING'],
  PROVISIONING: ['STARTING', 'FAILED', 'TERMINATING'],
  STARTING: ['READY', 'FAILED', 'TERMINATING'],
  READY: ['UNHEALTHY', 'DRAINING'],
  UNHEALTHY: ['READY', 'DRAINING', 'FAILED'],
  DRAINING: ['TERMINATING'],
  TERMINATING: ['TERMINATED', 'FAILED'],
  TERMINATED: [],
  FAILED: ['TERMINATING'],
};

export const canTransition = (from: NodeStatus, to: NodeStatus): boolean => NODE_TRANSITIONS[from].includes(to);

export class IllegalNodeTransitionError extends Error {
  override name = 'IllegalNodeTransitionError';
  constructor(readonly nodeId: string, readonly from: NodeStatus, readonly to: NodeStatus) {
    super(`node ${nodeId} cannot go from ${from} to ${to}`);
  }
}

export class NodeNotFoundError extends Error {
  override name = 'NodeNotFoundError';
  constructor(readonly nodeId: string) {
    super(`node ${nodeId} does not exist`);
  }
}

export interface TransitionNodeOptions {
  prisma: PrismaClient;
  /** Announces the transition (`nodeStatusChanged`, `nodeEvents`) after commit. */
  bus: TopicPublisher;
  nodeId: string;
  to: NodeStatus;
  /** Why (shown in the node's events and statusReason; server file paths are cut to their last segment). */
  reason?: string;
  /** Extra columns to set in the same update (endpointUrl, readyAt…). */
  data?: { endpointUrl?: string | null; readyAt?: Date | null; terminatedAt?: Date | null };
}

/**
 * Moves a node to `to` if the lifecycle allows it from its current status. The status update is
 * conditional on the status read (compare-and-set), so two workers racing cannot both apply a
 * transition; the event row is written in the same transaction and published after commit.
 */
export async function transitionNode({ prisma, bus, nodeId, to, reason: rawReason, data = {} }: TransitionNodeOptions) {
  const reason = rawReason === undefined ? undefined : withoutServerPaths(rawReason);
  const result = await prisma.$transaction(async (tx) => {
    const node = await tx.node.findUnique({ where: { id: nodeId }, include: { model: { select: { name: true } } } });
    if (!node) throw new NodeNotFoundError(nodeId);
    if (!canTransition(node.status, to)) throw new IllegalNodeTransitionError(nodeId, node.status, to);
    const updated = await tx.node.updateMany({
      where: { id: nodeId, status: node.status },
      data: { status: to, statusReason: reason ?? null, ...data },
    });
    if (updated.count !== 1) throw new IllegalNodeTransitionError(nodeId, node.status, to);
    const event = await tx.nodeEvent.create({
      data: { nodeId, kind: 'TRANSITION', fromStatus: node.status, toStatus: to, message: reason ?? `${node.status} → ${to}` },
    });
    return { from: node.status, modelName: node.model.name, event };
  });
  const at = result.event.createdAt.toISOString();
  await bus.publish('nodeStatusChanged', { nodeId, modelName: result.modelName, status: to, previousStatus: result.from, reason: reason ?? null, at });
  await bus.publish('nodeEvents', {
    id: result.event.id, nodeId, kind: 'TRANSITION', message: result.event.message, fromStatus: result.from, toStatus: to, createdAt: at,
  }, nodeId);
  return { from: result.from, to };
}

/**
 * Appends a log line to a node's events and publishes it to `nodeEvents:<nodeId>` subscribers. Server
 * file paths in it (CLI output, stack traces) are cut to their last segment: the dashboard shows it.
 */
export async function appendNodeLog({ prisma, bus, nodeId, message: line, kind = 'LOG' }: { prisma: PrismaClient; bus: TopicPublisher; nodeId: string; message: string; kind?: 'LOG' | 'HEALTH' }) {
  const message = withoutServerPaths(line);
  const event = await prisma.nodeEvent.create({ data: { nodeId, kind, message } });
  await bus.publish('nodeEvents', {
    id: event.id, nodeId, kind, message, fromStatus: null, toStatus: null, createdAt: event.createdAt.toISOString(),
  }, nodeId);
  return event;
}
