import type { Redis } from 'ioredis';
import type { Logger } from '@cic/core/logger';
import { type AdmissionEntry, type AdmissionJournal, admissionKeys } from './admission-journal.ts';
import type { InferenceMetrics } from './inference-metrics.ts';
import type { UsageRecordMessage } from './usage-record.ts';
import type { UsageRecorder } from './usage-recorder.ts';

/*
 * Moves a dead instance's journal into the claimer's own, atomically: of two instances that find the same
 * dead one, one gets its entries and the other an empty list. Moved, not copied, so a claimer that dies
 * before recording them leaves them in its own journal for the next instance.
 */
const CLAIM = `
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local entries = redis.call('HGETALL', KEYS[2])
for i = 1, #entries, 2 do redis.call('HSET', KEYS[4], entries[i], entries[i + 1]) end
redis.call('DEL', KEYS[2])
redis.call('SREM', KEYS[3], ARGV[1])
return entries`;

type ClaimRedis = Redis & { cicClaimAdmissions(live: string, journal: string, instances: string, own: string, deadId: string): Promise<string[] | null> };

export interface AdmissionRecoveryOptions {
  redis: Redis;
  prefix: string;
  journal: AdmissionJournal;
  usage: UsageRecorder;
  metrics: InferenceMetrics;
  log: Logger;
  /** Period of the scan for dead instances. @defaultValue 5000 */
  intervalMs?: number;
}

/** The usage record of a request whose instance died: what the journal knew, under the id it was admitted with. */
export function recoveredRecord(entry: AdmissionEntry, now = Date.now()): UsageRecordMessage {
  const started = Date.parse(entry.startedAt);
  return {
    id: entry.id, requestId: entry.requestId, organizationId: entry.organizationId, apiKeyId: entry.apiKeyId, modelName: entry.modelName,
    nodeId: entry.nodeId, endpoint: entry.endpoint, stream: entry.stream, promptTokens: entry.promptTokens, completionTokens: entry.completionTokens,
    user: entry.user ?? null, cachedTokens: 0, estimated: true, ttftMs: null, durationMs: Math.max(0, (entry.checkpointAt ?? started) - started),
    // Tokens relayed means the client had its 200; before that it saw the connection drop.
    status: entry.completionTokens > 0 ? 200 : 502, outcome: 'PARTIAL', errorCode: 'api_instance_lost', startedAt: entry.startedAt, endedAt: now,
  };
}

/**
 * Runs in every API instance, at start and every `intervalMs`: claims the journals of instances whose
 * liveness key expired and meters each admission in them as a PARTIAL usage record through the normal
 * usage path. Record ids are the admission's, so a request its instance did meter before dying is not
 * counted twice (the insert skips known ids).
 */
export function createAdmissionRecovery({ redis, prefix, journal, usage, metrics, log, intervalMs = 5_000 }: AdmissionRecoveryOptions) {
  const scripts = redis as ClaimRedis;
  redis.defineCommand('cicClaimAdmissions', { numberOfKeys: 4, lua: CLAIM });
  let timer: NodeJS.Timeout | undefined;
  let scanning: Promise<number> | undefined;

  async function scan(): Promise<number> {
    if (redis.status !== 'ready') return 0;
    let recovered = 0;
    for (const deadId of await redis.smembers(journal.keys.instances)) {
      if (deadId === journal.instanceId) continue;
      const dead = admissionKeys(prefix, deadId);
      const flat = await scripts.cicClaimAdmissions(dead.live, dead.journal, dead.instances, journal.keys.journal, deadId);
      if (!flat) continue;
      for (let i = 1; i < flat.length; i += 2) {
        const entry = JSON.parse(flat[i]!) as AdmissionEntry;
        usage.record(recoveredRecord(entry));
        recovered++;
      }
      if (flat.length > 0) log.warn({ instance: deadId, requests: flat.length / 2 }, 'admission recovery: metered the requests of a dead API instance as PARTIAL');
    }
    metrics.admissionsRecovered.inc(recovered);
    return recovered;
  }

  const tick = (): void => {
    scanning ??= scan()
      .catch((err: unknown) => {
        log.warn({ err: (err as Error).message }, 'admission recovery: scan failed; will retry');
        return 0;
      })
      .finally(() => (scanning = undefined));
  };

  return {
    /** One scan now (tests, and start-up); returns the number of requests recovered. */
    scan,
    start(): void {
      tick();
      timer = setInterval(tick, intervalMs);
      timer.unref();
    },
    async stop(): Promise<void> {
      clearInterval(timer);
      await scanning;
    },
  };
}

export type AdmissionRecovery = ReturnType<typeof createAdmissionRecovery>;
