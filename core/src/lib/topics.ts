import type { NodeEventKind, NodeStatus } from '@cic/db';

/**
 * Events that cross processes through Redis pub/sub, published and received through the TopicBus
 * (topic-bus.ts): channel `<prefix><topic>` or `<prefix><topic>:<id>`, payload JSON.
 */
export interface TopicPayloads {
  /** A node changed status (every instance; admins subscribe). */
  nodeStatusChanged: { nodeId: string; modelName: string; status: NodeStatus; previousStatus: NodeStatus | null; reason: string | null; at: string };
  /** One line of a node's event log (per node). */
  nodeEvents: { id: string; nodeId: string; kind: NodeEventKind; message: string; fromStatus: NodeStatus | null; toStatus: NodeStatus | null; createdAt: string };
  /** A key was revoked, rotated away or changed: every API instance drops it from its cache. */
  apiKeyChanged: { keyId: string; prefix: string };
  /** An organization's balance or frozen state changed (per organization). */
  billingChanged: { organizationId: string; balanceMicros: string; frozen: boolean; low: boolean };
  /** A served model was added or its settings, visibility or enabled state changed: API instances re-read the catalog. */
  modelChanged: { modelId: string; name: string };
  /** A batch of an organization's requests was metered (per organization). */
  usageUpdated: { organizationId: string; requests: number; promptTokens: number; completionTokens: number; at: string };
}

export type Topic = keyof TopicPayloads;
