import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { createPrismaClient } from './client.ts';
import type { PrismaClient } from '../generated/client.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Superuser URL of the run's Postgres server (scripts/test-global-setup.ts). */
    testDatabaseAdminUrl: string;
    /** A migrated database that each test file clones. */
    testDatabaseTemplate: string;
    /** The run's Redis server; each test file isolates itself with a key prefix. */
    testRedisUrl: string;
  }
}

export interface TestDatabase {
  url: string;
  name: string;
  prisma: PrismaClient;
  drop(): Promise<void>;
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function admin<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: inject('testDatabaseAdminUrl') });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/**
 * A fresh, migrated database for one test file: a clone of the run's template (fast: a file copy).
 * Call `drop()` in afterAll.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `t_${randomUUID().replace(/-/g, '')}`;
  const template = inject('testDatabaseTemplate');
  await admin(async (c) => {
    for (let attempt = 0; ; attempt++) {
      try {
        await c.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`);
        return;
      } catch (err) {
        // Two clones of one template at the same instant can collide; a retry succeeds.
        if (attempt > 20 || !String(err).includes('is being accessed by other users')) throw err;
        await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
      }
    }
  });
  const url = withDatabase(inject('testDatabaseAdminUrl'), name);
  const prisma = createPrismaClient({ databaseUrl: url, poolSize: 5 });
  return {
    url,
    name,
    prisma,
    async drop() {
      await prisma.$disconnect();
      await admin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}

/** The run's Redis URL and a key prefix no other test file uses. */
export function testRedis(): { url: string; prefix: string } {
  return { url: inject('testRedisUrl'), prefix: `test:${randomUUID()}:` };
}
