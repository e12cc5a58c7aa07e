import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { PrismaClient } from '@cic/db';
import type { Redis } from 'ioredis';
import type { TopicPublisher } from '@cic/core/lib/topic-bus';
import type { Logger } from '@cic/core/logger';
import type { InferenceMetrics } from './inference-metrics.ts';
import { insertUsageBatch } from './insert-usage-batch.ts';
import type { UsageRecordMessage } from './usage-record.ts';

export interface UsageWriterOptions {
  prisma: PrismaClient;
  /** A connection of its own: XREADGROUP blocks it. */
  reader: Redis;
  /** For XACK/XDEL and XAUTOCLAIM. */
  redis: Redis;
  /** Announces `usageUpdated` per organization. */
  bus: TopicPublisher;
  streamKey: string;
  log: Logger;
  metrics: InferenceMetrics;
  /** @defaultValue 500 */
  batchSize?: number;
  /** Entries idle this long in a consumer's pending list are taken over (the consumer died). @defaultValue 60000 */
  claimIdleMs?: number;
  /** Minimum interval between usageUpdated events of one organization. @defaultValue 250 */
  publishIntervalMs?: number;
  /**
   * Pause after a batch smaller than `batchSize`, so light traffic is written a few times a second in
   * batches instead of one insert per request (which would compete with the proxy for CPU).
   * @defaultValue 200
   */
  lingerMs?: number;
}

type Entry = [id: string, fields: string[]];

const GROUP = 'usage-writer';

/**
 * Drains the usage stream into `usage_records`: a consumer group (so several API instances share the work),
 * batched `INSERT … ON CONFLICT DO NOTHING` (ids are made per request, so a replay is harmless), XACK only
 * after the commit, and XAUTOCLAIM of entries a dead instance left pending. A slow or down database only
 * makes the stream longer; inference never waits for it.
 */
export function createUsageWriter({ prisma, reader, redis, bus, streamKey, log, metrics, batchSize = 500, claimIdleMs = 60_000, publishIntervalMs = 250, lingerMs = 200 }: UsageWriterOptions) {
  const consumer = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  let stopping = false;
  let loop: Promise<void> | undefined;
  let ownPendingFirst = true;
  let lastClaim = 0;
  let wake: (() => void) | undefined;
  const linger = () => new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, lingerMs);
    wake = () => {
      clearTimeout(timer);
      resolve();
    };
  });
  const totals = new Map<string, { requests: number; promptTokens: number; completionTokens: number }>();
  const publishTimer = setInterval(() => void flushEvents(), publishIntervalMs);
  publishTimer.unref();

  async function flushEvents(): Promise<void> {
    if (totals.size === 0) return;
    const at = new Date().toISOString();
    const batch = [...totals];
    totals.clear();
    await Promise.allSettled(batch.map(([organizationId, t]) => bus.publish('usageUpdated', { organizationId, ...t, at }, organizationId)));
  }

  async function write(entries: Entry[]): Promise<void> {
    if (entries.length === 0) return;
    const messages: UsageRecordMessage[] = [];
    for (const [, fields] of entries) {
      try {
        messages.push(JSON.parse(fields[1] ?? '') as UsageRecordMessage);
      } catch {
        metrics.usageWriteErrors.inc({ stage: 'dropped' });
        log.error({ fields }, 'usage writer: unreadable stream entry dropped');
      }
    }
    await insertUsageBatch(prisma, messages, { metrics, log });
    const ids = entries.map(([id]) => id);
    await redis.pipeline().xack(streamKey, GROUP, ...ids).xdel(streamKey, ...ids).exec();
    const now = Date.now();
    for (const m of messages) {
      metrics.usageWriteLag.observe(Math.max(0, now - m.endedAt) / 1000);
      const t = totals.get(m.organizationId) ?? { requests: 0, promptTokens: 0, completionTokens: 0 };
      t.requests++;
      t.promptTokens += m.promptTokens;
      t.completionTokens += m.completionTokens;
      totals.set(m.organizationId, t);
    }
  }

  async function readOnce(): Promise<void> {
    if (Date.now() - lastClaim > claimIdleMs / 2) {
      lastClaim = Date.now();
      const claimed = (await redis.xautoclaim(streamKey, GROUP, consumer, claimIdleMs, '0-0', 'COUNT', batchSize)) as [string, Entry[]];
      await write(claimed[1].filter((e) => e[1] !== null));
    }
    const from = ownPendingFirst ? '0' : '>';
    const res = (await reader.xreadgroup('GROUP', GROUP, consumer, 'COUNT', batchSize, 'BLOCK', ownPendingFirst ? 1 : 500, 'STREAMS', streamKey, from)) as [string, Entry[]][] | null;
    const entries = res?.[0]?.[1] ?? [];
    if (ownPendingFirst && entries.length === 0) ownPendingFirst = false;
    await write(entries.filter((e) => e[1] !== null));
    if (entries.length > 0 && entries.length < batchSize && !stopping) await linger();
  }

  let groupReady = false;
  async function ensureGroup(): Promise<void> {
    await redis.xgroup('CREATE', streamKey, GROUP, '0', 'MKSTREAM').catch((err: Error) => {
      if (!err.message.includes('BUSYGROUP')) throw err;
    });
    groupReady = true;
  }

  async function run(): Promise<void> {
    while (!stopping) {
      try {
        // Created here, not in start(): the API must start (and serve, failing open) while Redis is away.
        if (!groupReady) await ensureGroup();
        await readOnce();
      } catch (err) {
        if (stopping) break;
        metrics.usageWriteErrors.inc({ stage: 'insert' });
        log.warn({ err: (err as Error).message }, 'usage writer: batch not written; will retry');
        ownPendingFirst = true;
        // The stream (and its group) may have been deleted meanwhile: recreate before reading again.
        if ((err as Error).message.includes('NOGROUP')) groupReady = false;
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
  }

  return {
    consumer,
    start(): void {
      loop = run();
    },
    /** Finishes the current batch, writes what is already in the stream for this consumer, then stops. */
    async stop(): Promise<void> {
      stopping = true;
      wake?.();
      await loop;
      try {
        ownPendingFirst = true;
        for (let i = 0; i < 20; i++) {
          const res = (await reader.xreadgroup('GROUP', GROUP, consumer, 'COUNT', batchSize, 'STREAMS', streamKey, ownPendingFirst ? '0' : '>')) as [string, Entry[]][] | null;
          const entries = res?.[0]?.[1] ?? [];
          if (entries.length === 0) {
            if (!ownPendingFirst) break;
            ownPendingFirst = false;
            continue;
          }
          await write(entries.filter((e) => e[1] !== null));
        }
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'usage writer: final drain incomplete; another instance will claim the rest');
      }
      clearInterval(publishTimer);
      await flushEvents();
      reader.disconnect();
    },
  };
}
