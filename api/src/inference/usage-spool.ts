import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { PrismaClient } from '@cic/db';
import type { Logger } from '@cic/core/logger';
import type { InferenceMetrics } from './inference-metrics.ts';
import { insertUsageBatch } from './insert-usage-batch.ts';
import type { UsageRecordMessage } from './usage-record.ts';

export interface UsageSpoolOptions {
  /** Where the spool files live (USAGE_SPOOL_DIR); one API process per directory at a time. */
  dir: string;
  prisma: PrismaClient;
  log: Logger;
  metrics: InferenceMetrics;
  /** How often spooled records are offered to Postgres again while any are left. @defaultValue 10000 */
  replayIntervalMs?: number;
}

const FILE = /^usage-(\d+)-[0-9a-f]+\.ndjson$/;
const REPLAY_BATCH = 500;

/** Whether a process with this pid runs (EPERM: it does, as another user). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The last resort of the usage recorder: a record neither Redis nor Postgres took is appended to a local
 * file (one JSON line each, `fdatasync`ed before `append` resolves; appends waiting meanwhile share one
 * sync) and inserted into Postgres later: at start and then every `replayIntervalMs` while files are
 * left. Replay inserts by record id (`ON CONFLICT DO NOTHING`) and deletes a file only after all its
 * records are in, so a crash mid-replay replays the file again without doubling anything.
 */
export function createUsageSpool({ dir, prisma, log, metrics, replayIntervalMs = 10_000 }: UsageSpoolOptions) {
  let segment: Promise<FileHandle> | undefined;
  let waiting: { line: string; done: (err?: unknown) => void }[] = [];
  // Appends and replays take turns: a replay closes the current file first, so it never reads one being written.
  let turn: Promise<unknown> = Promise.resolve();
  // Whether a replay may find something: files of an earlier process at start, then whatever was appended since.
  let maybeFiles = true;
  let timer: NodeJS.Timeout | undefined;

  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = turn.then(fn, fn);
    turn = run.catch(() => undefined);
    return run;
  };

  async function flush(): Promise<void> {
    const batch = waiting;
    waiting = [];
    if (batch.length === 0) return;
    try {
      segment ??= mkdir(dir, { recursive: true, mode: 0o700 }).then(() => open(join(dir, `usage-${process.pid}-${randomBytes(4).toString('hex')}.ndjson`), 'a', 0o600));
      const handle = await segment;
      await handle.write(batch.map((b) => b.line).join(''));
      await handle.datasync();
      maybeFiles = true;
      for (const b of batch) b.done();
    } catch (err) {
      for (const b of batch) b.done(err);
    }
  }

  async function closeSegment(): Promise<void> {
    const current = segment;
    segment = undefined;
    await (await current?.catch(() => undefined))?.close();
  }

  async function replayFile(path: string): Promise<number> {
    const records: UsageRecordMessage[] = [];
    for (const line of (await readFile(path, 'utf8')).split('\n')) {
      if (line === '') continue;
      try {
        records.push(JSON.parse(line) as UsageRecordMessage);
      } catch {
        // Only the last line of a file can be torn (a crash mid-write); its append never resolved.
        log.warn({ path }, 'usage spool: unreadable line skipped');
      }
    }
    for (let i = 0; i < records.length; i += REPLAY_BATCH) await insertUsageBatch(prisma, records.slice(i, i + REPLAY_BATCH), { metrics, log });
    await unlink(path);
    return records.length;
  }

  async function replay(): Promise<number> {
    return exclusive(async () => {
      maybeFiles = false;
      await closeSegment();
      let names: string[];
      try {
        names = await readdir(dir);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
        throw err;
      }
      let replayed = 0;
      let left = false;
      for (const name of names.sort()) {
        const pid = Number(FILE.exec(name)?.[1] ?? NaN);
        if (Number.isNaN(pid)) continue;
        // Another live process's file (a second API wrongly given the same directory): not ours to take.
        if (pid !== process.pid && isRunning(pid)) continue;
        try {
          replayed += await replayFile(join(dir, name));
        } catch (err) {
          left = true;
          log.warn({ err: (err as Error).message, file: name }, 'usage spool: replay failed; will retry');
          break;
        }
      }
      if (left) maybeFiles = true;
      if (replayed > 0) log.info({ records: replayed }, 'usage spool: records replayed into Postgres');
      return replayed;
    });
  }

  return {
    /** Appends a record durably: resolves once it is on disk, rejects if it could not be written. */
    append(record: UsageRecordMessage): Promise<void> {
      metrics.usageSpooled.inc();
      return new Promise<void>((resolve, reject) => {
        waiting.push({ line: `${JSON.stringify(record)}\n`, done: (err) => (err === undefined ? resolve() : reject(err as Error)) });
        void exclusive(flush);
      });
    },
    /** Inserts every spooled record (this process's and dead ones') into Postgres; returns how many. */
    replay,
    start(): void {
      const tick = () => {
        if (maybeFiles) void replay().catch((err: unknown) => log.warn({ err: (err as Error).message }, 'usage spool: replay failed; will retry'));
      };
      tick();
      timer = setInterval(tick, replayIntervalMs);
      timer.unref();
    },
    async stop(): Promise<void> {
      clearInterval(timer);
      await exclusive(closeSegment);
    },
  };
}

export type UsageSpool = ReturnType<typeof createUsageSpool>;
