import type { PrismaClient } from '@cic/db';
import type { Redis } from 'ioredis';
import type { Logger } from '@cic/core/logger';
import type { InferenceMetrics } from './inference-metrics.ts';
import type { RateLimiter } from './rate-limiter.ts';
import { insertUsageRecords } from './insert-usage-records.ts';
import type { UsageRecordMessage } from './usage-record.ts';

export interface UsageRecorderOptions {
  redis: Redis;
  prisma: PrismaClient;
  streamKey: string;
  rateLimiter: RateLimiter;
  metrics: InferenceMetrics;
  log: Logger;
}

/**
 * Hands a finished request's usage to the usage writer through a Redis stream, in the same pipeline as
 * the rate limiter's token correction: one round trip, off the response path. When Redis cannot take it
 * the record goes straight to Postgres instead (idempotent on its id), so an outage loses nothing.
 */
export function createUsageRecorder({ redis, prisma, streamKey, rateLimiter, metrics, log }: UsageRecorderOptions) {
  const pending = new Set<Promise<void>>();

  async function insertDirectly(record: UsageRecordMessage, reason: string): Promise<void> {
    try {
      metrics.usageWritten.inc(await insertUsageRecords(prisma, [record]));
    } catch (err) {
      metrics.usageWriteErrors.inc({ stage: 'dropped' });
      log.error({ err, record, reason }, 'usage record lost: neither Redis nor Postgres took it');
    }
  }

  async function send(record: UsageRecordMessage, tokenCorrection: { keyId: string; delta: number } | null): Promise<void> {
    if (redis.status !== 'ready') return insertDirectly(record, `redis ${redis.status}`);
    try {
      const pipeline = redis.pipeline();
      if (tokenCorrection) rateLimiter.adjust(pipeline, tokenCorrection.keyId, tokenCorrection.delta);
      pipeline.xadd(streamKey, '*', 'r', JSON.stringify(record));
      const results = (await pipeline.exec()) ?? [];
      const xaddError = results[results.length - 1]?.[0];
      if (xaddError) throw xaddError;
    } catch (err) {
      metrics.usageWriteErrors.inc({ stage: 'enqueue' });
      await insertDirectly(record, (err as Error).message);
    }
  }

  return {
    /** Queues the record; never throws and never delays the caller. */
    record(record: UsageRecordMessage, tokenCorrection: { keyId: string; delta: number } | null = null): void {
      const p = send(record, tokenCorrection).finally(() => pending.delete(p));
      pending.add(p);
    },
    /** Waits until every queued record reached Redis (or Postgres): call before shutting down. */
    async drain(): Promise<void> {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
  };
}

export type UsageRecorder = ReturnType<typeof createUsageRecorder>;
