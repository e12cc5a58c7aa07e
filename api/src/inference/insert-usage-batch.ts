import type { PrismaClient } from '@cic/db';
import type { Logger } from '@cic/core/logger';
import type { InferenceMetrics } from './inference-metrics.ts';
import { insertUsageRecords } from './insert-usage-records.ts';
import type { UsageRecordMessage } from './usage-record.ts';

/** Postgres 23503 (through Prisma's raw-query error, P2010, or its own P2003). */
const isForeignKeyViolation = (err: unknown): boolean => {
  const e = err as { code?: string; message?: string; meta?: { code?: string } };
  return e.code === 'P2003' || e.meta?.code === '23503' || /23503|foreign key/i.test(e.message ?? '');
};

/**
 * Inserts a batch of usage records (ids already stored are skipped). A batch can fail for one bad row (its
 * key or organization was deleted): it is then found row by row and dropped alone. Any other failure
 * (database down) throws, so the caller keeps the whole batch for another attempt.
 */
export async function insertUsageBatch(prisma: PrismaClient, messages: UsageRecordMessage[], { metrics, log }: { metrics: InferenceMetrics; log: Logger }): Promise<void> {
  if (messages.length === 0) return;
  try {
    metrics.usageWritten.inc(await insertUsageRecords(prisma, messages));
  } catch (err) {
    const foreignKey = isForeignKeyViolation(err);
    if (!foreignKey || messages.length === 1) {
      if (foreignKey) {
        metrics.usageWriteErrors.inc({ stage: 'dropped' });
        log.error({ err, record: messages[0] }, 'usage record refers to a deleted key or organization; dropped');
        return;
      }
      throw err;
    }
    for (const m of messages) await insertUsageBatch(prisma, [m], { metrics, log });
  }
}
