import type { PrismaClient } from '@cic/db';
import type { Redis } from 'ioredis';
import type { Logger } from '@cic/core/logger';
import type { AdmissionJournal } from './admission-journal.ts';
import type { InferenceMetrics } from './inference-metrics.ts';
import type { RateLimiter } from './rate-limiter.ts';
import { insertUsageRecords } from './insert-usage-records.ts';
import type { UsageRecordMessage } from './usage-record.ts';
import type { UsageSpool } from './usage-spool.ts';

export interface UsageRecorderOptions {
  redis: Redis;
  prisma: PrismaClient;
  streamKey: string;
  rateLimiter: RateLimiter;
  /** Settled in the same transaction as the record is queued. */
  journal: AdmissionJournal;
  /** Takes the records neither Redis nor Postgres took. */
  spool: UsageSpool;
  metrics: InferenceMetrics;
  log: Logger;
}

/**
 * Hands a finished request's usage to the usage writer through a Redis stream, in one transaction with
 * the rate limiter's token correction and the settling of its admission entry: one round trip, off the
 * response path. When Redis cannot take it the record goes straight to Postgres instead (idempotent on its
 * id), and when Postgres cannot either, to the local spool file, replayed later: an outage loses nothing.
 */
export function createUsageRecorder({ redis, prisma, streamKey, rateLimiter, journal, spool, metrics, log }: UsageRecorderOptions) {
  const pending = new Set<Promise<void>>();

  async function insertDirectly(record: UsageRecordMessage, reason: string): Promise<void> {
    try {
      metrics.usageWritten.inc(await insertUsageRecords(prisma, [record]));
      journal.settleLater(record.id);
    } catch (err) {
      try {
        await spool.append(record);
        journal.settleLater(record.id);
        log.warn({ err: (err as Error).message, recordId: record.id, reason }, 'usage record spooled to disk: neither Redis nor Postgres took it');
      } catch (spoolErr) {
        metrics.usageWriteErrors.inc({ stage: 'dropped' });
        log.error({ err, spoolErr, record, reason }, 'usage record lost: neither Redis, Postgres nor the spool file took it');
      }
    }
  }

  async function send(record: UsageRecordMessage, tokenCorrection: { keyId: string; delta: number } | null): Promise<void> {
    if (redis.status !== 'ready') return insertDirectly(record, `redis ${redis.status}`);
    try {
      // A transaction: the record is queued if and only if its admission entry is settled.
      const transaction = redis.multi();
      if (tokenCorrection) rateLimiter.adjust(transaction, tokenCorrection.keyId, tokenCorrection.delta);
      transaction.xadd(streamKey, '*', 'r', JSON.stringify(record));
      journal.settle(transaction, record.id);
      const results = (await transaction.exec()) ?? [];
      const xaddError = results[results.length - 2]?.[0];
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
    /** Waits until every queued record reached Redis (or Postgres, or the spool): call before shutting down. */
    async drain(): Promise<void> {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
  };
}

export type UsageRecorder = ReturnType<typeof createUsageRecorder>;
