import type { PrismaClient } from '@cic/db';
import type { TopicBus } from '@cic/core/lib/topic-bus';
import type { Logger } from '@cic/core/logger';
import type { NodeSecretBox } from '@cic/core/nodes/node-secret';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { JobsConfig } from '../config.ts';
import type { JobsMetrics } from '../metrics.ts';
import type { Providers } from '../providers/index.ts';

/** What every job handler gets. */
export interface JobContext {
  prisma: PrismaClient;
  redis: Redis;
  /** Publishes node and billing events (the same prefixed channels the API listens on). */
  bus: TopicBus;
  config: JobsConfig;
  log: Logger;
  providers: Providers;
  /** Seals and opens node API keys (NODE_SECRET_KEY). */
  nodeSecrets: NodeSecretBox;
  metrics: JobsMetrics;
  /** The node-lifecycle queue, for handlers that start node jobs (the health check terminating a dead node). */
  lifecycle: Queue;
  /** Aborts on the job's timeout, and when the worker stops (see `stopping`). */
  signal: AbortSignal;
  /**
   * Aborts when the worker stops and its grace period has passed. The job is then handed back to the
   * queue as it is, so a handler seeing it must not record a failure: the next attempt resumes.
   */
  stopping: AbortSignal;
}
