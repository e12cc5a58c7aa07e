// Vitest global setup for every Node workspace: real Postgres and Redis for the run. `npm test` starts
// them once and passes their URLs in TEST_DATABASE_ADMIN_URL / TEST_REDIS_URL; a workspace run alone
// (`npx vitest` in api/) starts its own here and stops them afterwards.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import type {} from '@cic/db/testing'; // declares the values provided below
import { deployMigrations } from '@cic/db/migrate';
import { startPostgres } from './lib/postgres.mjs';
import { startRedis } from './lib/redis.mjs';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const cleanups: (() => Promise<void> | void)[] = [];
  let adminUrl = process.env.TEST_DATABASE_ADMIN_URL;
  let redisUrl = process.env.TEST_REDIS_URL;
  if (!adminUrl) {
    const dir = mkdtempSync(join(tmpdir(), 'cic-test-pg-'));
    const server = await startPostgres({ dir, fsync: false });
    adminUrl = server.adminUrl('postgres');
    cleanups.push(async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    });
  }
  if (!redisUrl) {
    const server = await startRedis();
    redisUrl = server.url;
    cleanups.push(server.stop);
  }

  const template = `tpl_${randomUUID().replace(/-/g, '')}`;
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  await client.query(`CREATE DATABASE "${template}"`);
  const templateUrl = new URL(adminUrl);
  templateUrl.pathname = `/${template}`;
  await deployMigrations({ databaseUrl: templateUrl.toString() });
  cleanups.unshift(async () => {
    await client.query(`DROP DATABASE IF EXISTS "${template}" WITH (FORCE)`);
    await client.end();
  });

  project.provide('testDatabaseAdminUrl', adminUrl);
  project.provide('testDatabaseTemplate', template);
  project.provide('testRedisUrl', redisUrl);

  return async () => {
    for (const cleanup of cleanups) await cleanup();
  };
}
