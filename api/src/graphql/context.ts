import type { PrismaClient } from '@cic/db';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { TopicBus } from '@cic/core/lib/topic-bus';
import type { Logger } from '@cic/core/logger';
import type { Viewer } from '@cic/core/auth/viewer';
import type { NodeSecretBox } from '@cic/core/nodes/node-secret';
import type { NodeUrlPolicy } from '@cic/core/nodes/node-url';
import type { GraphQLMetrics } from './graphql-metrics.ts';
import type { LiveAuthorization } from './live-authorization.ts';
import type { LiveEvents } from './live-events.ts';
import type { NodeSnapshots } from './node-snapshots.ts';

/** Per-process dependencies every resolver may use. */
export interface GraphQLServices {
  prisma: PrismaClient;
  /** The command connection (caches such as the invoice list). */
  redis: Redis;
  /** Publishes events (key changes, node transitions, billing) to every process. */
  bus: TopicBus;
  /** Subscriptions' event streams, fed by the topic bus. */
  events: LiveEvents;
  /** `node-lifecycle` BullMQ queue. */
  nodeQueue: Queue;
  /** Per-event re-checks for subscriptions (revoked keys, expired sessions, lost roles). */
  live: LiveAuthorization;
  /** One database read per nodeStatusChanged event, shared by all subscribers. */
  nodeSnapshots: NodeSnapshots;
  /** Most usageUpdated events per second sent to one subscriber. */
  usageEventsPerSecond: number;
  /** Days a new or resent invitation stays open (INVITATION_VALID_DAYS). */
  invitationValidDays: number;
  /** cic_invitations_total, by event. */
  invitationEvents: GraphQLMetrics['invitations'];
  /** launchNode: seals a STATIC node's key (NODE_SECRET_KEY) and the base URLs it accepts (NODE_ALLOW_LINK_LOCAL_URLS). */
  nodeLaunch: { nodeSecrets: NodeSecretBox; urlPolicy: NodeUrlPolicy };
}

/** The per-operation context (HTTP request, SSE stream or graphql-ws subscription). */
export interface GraphQLContext extends GraphQLServices {
  viewer: Viewer;
  requestId: string;
  log: Logger;
}
