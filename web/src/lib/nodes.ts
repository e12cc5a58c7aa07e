import type { NodeStatus } from '@cic/db';
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


export const NODE_STATUS_SUBSCRIPTION = `subscription NodeStatus { nodeStatusChanged { ${NODE_FIELDS} } }`;
export const NODE_EVENTS_SUBSCRIPTION = `subscription NodeEvents($nodeId: ID!) { nodeEvents(nodeId: $nodeId) { ${NODE_EVENT_FIELDS} } }`;
