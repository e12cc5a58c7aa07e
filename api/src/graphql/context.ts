import type { PrismaClient } from '@cic/db';
import type { Queue } from 'bullmq';
import type { PubSub } from 'graphql-yoga';
import type { Redis } from 'ioredis';
import type { TopicPayloads } from '../lib/topics.ts';
import type { Logger } from '../logger.ts';
import type { Viewer } from '../services/auth/viewer.ts';
import type { LiveAuthorization } from './live-authorization.ts';
import type { NodeSnapshots } from './node-snapshots.ts';

/** Yoga's PubSub over Redis: the same channels lib/topics.ts `publish()` writes to. */
export type GraphQLPubSub = PubSub<{
  nodeStatusChanged: [TopicPayloads['nodeStatusChanged']];
  nodeEvents: [nodeId: string, payload: TopicPayloads['nodeEvents']];
  usageUpdated: [organizationId: string, payload: TopicPayloads['usageUpdated']];
  billingChanged: [organizationId: string, payload: TopicPayloads['billingChanged']];
  apiKeyChanged: [TopicPayloads['apiKeyChanged']];
}>;

/** Per-process dependencies every resolver may use. */
export interface GraphQLServices {
  prisma: PrismaClient;
  /** Publishing connection (lib/topics.ts `publish()`). */
  redis: Redis;
  pubsub: GraphQLPubSub;
  /** `node-lifecycle` BullMQ queue. */
  nodeQueue: Queue;
  /** Per-event re-checks for subscriptions (revoked keys, expired sessions, lost roles). */
  live: LiveAuthorization;
  /** One database read per nodeStatusChanged event, shared by all subscribers. */
  nodeSnapshots: NodeSnapshots;
  /** Most usageUpdated events per second sent to one subscriber. */
  usageEventsPerSecond: number;
}

/** The per-operation context (HTTP request, SSE stream or graphql-ws subscription). */
export interface GraphQLContext extends GraphQLServices {
  viewer: Viewer;
  requestId: string;
  log: Logger;
}
