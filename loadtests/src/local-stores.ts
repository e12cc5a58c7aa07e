import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deployMigrations } from '@cic/db/migrate';
import { startPostgres, type LocalPostgres } from '../../scripts/lib/postgres.mjs';
import { startRedis, type LocalRedis } from '../../scripts/lib/redis.mjs';
import { stopChild } from '../../scripts/lib/spawn-service.mjs';

export interface LocalStores {
  /** The run's temporary directory (removed by stop): Postgres' and Redis' data, room for others. */
  dir: string;
  databaseUrl: string;
  redisUrl: string;
  /** Stops Postgres (fast shutdown) and starts it again on the same port with the same data. */
  postgres: { stop(): Promise<void>; start(): Promise<void> };
  /** Kills redis-server (`signal`, SIGKILL for a crash) and starts it again on the same port with its data. */
  redis: { kill(signal: NodeJS.Signals): Promise<void>; start(): Promise<void> };
  stop(): Promise<void>;
}

/**
 * A private, migrated Postgres (fsync off, temp dir) and Redis for one benchmark run. With `durableRedis`,
 * Redis keeps an append-only file (`appendfsync everysec`, as `npm start` and the Kubernetes Redis do), so
 * it can be killed and restarted with its data (the chaos suite).
 */
export async function startLocalStores(options: { durableRedis?: boolean } = {}): Promise<LocalStores> {
  const dir = mkdtempSync(join(tmpdir(), 'cic-loadtest-pg-'));
  let pg: LocalPostgres | null = await startPostgres({ dir, fsync: false });
  const pgPort = pg.port;
  const redisDir = options.durableRedis ? join(dir, 'redis') : undefined;
  let redis: LocalRedis | null = await startRedis({ dir: redisDir });
  const redisPort = redis.port;
  await deployMigrations({ databaseUrl: pg.url });
  return {
    dir,
    databaseUrl: pg.url,
    redisUrl: redis.url,
    postgres: {
      async stop() {
        await pg?.stop();
        pg = null;
      },
      async start() {
        pg = await startPostgres({ dir, port: pgPort, fsync: false });
      },
    },
    redis: {
      async kill(signal) {
        if (redis) await stopChild(redis.child, signal);
        redis = null;
      },
      async start() {
        redis = await startRedis({ dir: redisDir, port: redisPort });
      },
    },
    async stop() {
      await redis?.stop();
      await pg?.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
