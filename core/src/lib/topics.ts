import type { Redis } from 'ioredis';
import type { NodeEventKind, NodeStatus } from '@cic/db';

/**
 * Events that cross processes through Redis pub/sub. Channel names and JSON payloads follow
 * @graphql-yoga/redis-event-target (channel = topic, or `topic:id`), so the jobs worker can publish with a
 * plain ioredis client and GraphQL subscriptions on any API instance receive it.
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
  /** A batch of an organization's requests was metered (per organization). */
  usageUpdated: { organizationId: string; requests: number; promptTokens: number; completionTokens: number; at: string };
}

export type Topic = keyof TopicPayloads;

export const channelOf = (topic: Topic, id?: string): string => (id ? `${topic}:${id}` : topic);

/** Publishes one event; the payload is JSON, as redis-event-target expects. */
export async function publish<T extends Topic>(redis: Redis, topic: T, payload: TopicPayloads[T], id?: string): Promise<void> {
  await redis.publish(channelOf(topic, id), JSON.stringify(payload));
}
