import type { NodeStatus } from '@cic/db';
import { isLaunching, isLive } from '@cic/core/nodes/node-status-groups';
import { when } from './format';
import { NODE_EVENT_FIELDS, NODE_FIELDS } from './graphql-fields';

/** Node shapes and queries shared by the nodes pages and their live subscriptions (browser-safe). */
export interface NodeRow {
  id: string;
  status: NodeStatus;
  statusReason: string | null;
  provider: string;
  accelerator: string | null;
  cloud: string | null;
  region: string | null;
  endpointUrl: string | null;
  runningRequests: number;
  waitingRequests: number;
  kvCacheUsage: number;
  createdAt: string;
  readyAt: string | null;
  model: { name: string };
}

export interface NodeEventRow {
  id: string;
  kind: string;
  fromStatus: string | null;
  toStatus: string | null;
  message: string;
  createdAt: string;
}

/** Whether Terminate is offered: a live node whose teardown has not begun. */
export const canTerminate = (status: NodeStatus): boolean => isLive(status) && status !== 'TERMINATING';

/** When the node became ready, or why it has no such time: still launching, or ended before it was. */
export function readiness(node: Pick<NodeRow, 'status' | 'readyAt'>): string {
  if (node.readyAt) return `ready ${when(node.readyAt)}`;
  return isLaunching(node.status) ? 'not ready yet' : 'never became ready';
}

export const NODE_STATUS_SUBSCRIPTION = `subscription NodeStatus { nodeStatusChanged { ${NODE_FIELDS} } }`;
export const NODE_EVENTS_SUBSCRIPTION = `subscription NodeEvents($nodeId: ID!) { nodeEvents(nodeId: $nodeId) { ${NODE_EVENT_FIELDS} } }`;
