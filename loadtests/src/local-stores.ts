import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deployMigrations } from '@cic/db/migrate';
import { startPostgres } from '../../scripts/lib/postgres.mjs';
import { startRedis } from '../../scripts/lib/redis.mjs';

/** A private, migrated Postgres (fsync off, temp dir) and Redis for one benchmark run. */
export async function startLocalStores(): Promise<{ databaseUrl: string; redisUrl: string; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'cic-loadtest-pg-'));
  const pg = await startPostgres({ dir, fsync: false });
  const redis = await startRedis();
  await deployMigrations({ databaseUrl: pg.url });
  return {
    databaseUrl: pg.url,
    redisUrl: redis.url,
    async stop() {
      await redis.stop();
      await pg.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
