import { randomBytes } from 'node:crypto';
import type { ChainableCommander, Redis } from 'ioredis';
import type { Logger } from '@cic/core/logger';
import type { RateDecision, RateLimiter } from './rate-limiter.ts';

/** What is known of an admitted request when its API instance dies: enough for a PARTIAL usage record. */
export interface AdmissionEntry {
  /** The usage record id the request will be metered under (`use_…`): recovery writes under the same id. */
  id: string;
  requestId: string;
  organizationId: string;
  apiKeyId: string;
  modelName: string;
  endpoint: string;
  stream: boolean;
  /** The prompt estimate reserved at admission. */
  promptTokens: number;
  /** The request's OpenAI `user` field. */
  user: string | null;
  /** ISO timestamp. */
  startedAt: string;
  /** From the last checkpoint: the node answering and the completion tokens relayed so far. */
  nodeId: string | null;
  completionTokens: number;
  /** Epoch ms of the last checkpoint. */
  checkpointAt: number | null;
}

/** Filled in by the proxy while the request runs; copied into the journal at each checkpoint. */
export interface AdmissionProgress {
  nodeId: string | null;
  completionTokens: number;
}

export interface AdmissionJournalOptions {
  /** The hot path's connection: the settle (with the usage record) and checkpoints must share it, so they arrive in order. */
  redis: Redis;
  prefix: string;
  log: Logger;
  /** How long this instance counts as alive after its last heartbeat. @defaultValue 15000 */
  livenessTtlMs?: number;
  /** Heartbeat and checkpoint period. @defaultValue 1000 */
  checkpointIntervalMs?: number;
}

/** Redis keys of one instance's journal; the braces keep an instance's keys together. */
export const admissionKeys = (prefix: string, instanceId: string) => ({
  instances: `${prefix}adm:instances`,
  journal: `${prefix}adm:{${instanceId}}:journal`,
  live: `${prefix}adm:{${instanceId}}:live`,
});

/**
 * The admission journal: the rate limiter's script, in the step that admits a request, stores its entry in
 * this instance's Redis hash, and the usage recorder deletes it in the transaction that queues the usage
 * record. While the request runs, a heartbeat refreshes the instance's liveness key and checkpoints the
 * tokens relayed so far. An entry left behind by an instance whose liveness key expired (kill -9, crash)
 * is turned into a PARTIAL record by another instance (admission-recovery.ts).
 */
export function createAdmissionJournal({ redis, prefix, log, livenessTtlMs = 15_000, checkpointIntervalMs = 1_000 }: AdmissionJournalOptions) {
  const instanceId = `api_${randomBytes(6).toString('hex')}`;
  const keys = admissionKeys(prefix, instanceId);
  const running = new Map<string, { entry: AdmissionEntry; progress: AdmissionProgress; written: number }>();
  // Entries of requests metered while Redis was away (their records went to Postgres or the spool): deleted once it is back.
  const unsettled = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let lastFailureLog = 0;

  async function heartbeat(): Promise<void> {
    const pipeline = redis.pipeline().set(keys.live, '1', 'PX', livenessTtlMs).sadd(keys.instances, instanceId);
    const at = Date.now();
    for (const r of running.values()) {
      if (r.progress.completionTokens === r.written && r.progress.nodeId === r.entry.nodeId) continue;
      r.written = r.progress.completionTokens;
      r.entry = { ...r.entry, nodeId: r.progress.nodeId, completionTokens: r.progress.completionTokens, checkpointAt: at };
      pipeline.hset(keys.journal, r.entry.id, JSON.stringify(r.entry));
    }
    const settling = [...unsettled];
    if (settling.length > 0) pipeline.hdel(keys.journal, ...settling);
    try {
      if (redis.status !== 'ready') throw new Error(`redis is ${redis.status}`);
      await pipeline.exec();
      for (const id of settling) unsettled.delete(id);
    } catch (err) {
      if (Date.now() - lastFailureLog > 5_000) {
        lastFailureLog = Date.now();
        log.warn({ err: (err as Error).message }, 'admission journal: heartbeat failed');
      }
    }
  }

  return {
    instanceId,
    keys,
    /**
     * Takes the rate limit and journals the admission in the same script, then follows the request for
     * checkpoints. A limiter that failed open (Redis away) journaled nothing: such a request is metered
     * only by its own instance.
     */
    acquire(limiter: RateLimiter, keyId: string, limits: { rpm: number; tpm: number }, tokens: number, admitted: Omit<AdmissionEntry, 'nodeId' | 'completionTokens' | 'checkpointAt'>): { decision: Promise<RateDecision>; progress: AdmissionProgress } {
      const entry: AdmissionEntry = { ...admitted, nodeId: null, completionTokens: 0, checkpointAt: null };
      const progress: AdmissionProgress = { nodeId: null, completionTokens: 0 };
      const decision = limiter.acquire(keyId, limits, tokens, {
        key: keys.journal, field: entry.id, value: JSON.stringify(entry), instances: keys.instances, instanceId, live: keys.live, liveMs: livenessTtlMs,
      });
      void decision.then((d) => {
        if (d.allowed && !d.failedOpen) running.set(entry.id, { entry, progress, written: 0 });
      });
      return { decision, progress };
    },
    /** Queues the deletion of an admission's entry on the transaction that queues its usage record. */
    settle(transaction: ChainableCommander, id: string): void {
      running.delete(id);
      transaction.hdel(keys.journal, id);
    },
    /** For a record that went elsewhere (Redis away): the entry is deleted by a later heartbeat. */
    settleLater(id: string): void {
      running.delete(id);
      unsettled.add(id);
    },
    start(): void {
      void heartbeat();
      timer = setInterval(() => void heartbeat(), checkpointIntervalMs);
      timer.unref();
    },
    /** Call after the usage recorder drained: entries still journaled then were metered another way (Postgres, the spool). */
    async stop(): Promise<void> {
      clearInterval(timer);
      running.clear();
      unsettled.clear();
      try {
        if (redis.status === 'ready') await redis.multi().del(keys.journal).srem(keys.instances, instanceId).del(keys.live).exec();
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'admission journal: not removed on stop; another instance will recover its entries');
      }
    },
  };
}

export type AdmissionJournal = ReturnType<typeof createAdmissionJournal>;
