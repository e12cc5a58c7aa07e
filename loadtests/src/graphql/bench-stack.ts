import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPrismaClient } from '@cic/db';
import { deployMigrations } from '@cic/db/migrate';
import { signSessionToken } from '@cic/api/services/auth/session-token';
import { bootstrapPlatform } from '@cic/api/services/bootstrap/bootstrap-platform';
import { DEFAULT_MODELS, LOCAL_NODE_MODEL } from '@cic/api/services/bootstrap/default-models';
import { freePort } from '../../../scripts/lib/net.mjs';
import { startPostgres } from '../../../scripts/lib/postgres.mjs';
import { startRedis } from '../../../scripts/lib/redis.mjs';
import { waitForHttp } from '../../../scripts/lib/wait-http.mjs';
import { spawnTs } from '../harness/processes.ts';

const SECRET = 'graphql-bench-session-secret-0123456789abcdef';

/** Postgres, Redis, one API process (production mode) and an admin session token for it. */
export async function startGraphQLBenchStack() {
  const stops: (() => Promise<void>)[] = [];
  const pgDir = mkdtempSync(join(tmpdir(), 'cic-gqlbench-pg-'));
  const pg = await startPostgres({ dir: pgDir, fsync: false });
  stops.push(async () => {
    await pg.stop();
    rmSync(pgDir, { recursive: true, force: true });
  });
  const redis = await startRedis();
  stops.push(redis.stop);
  await deployMigrations({ databaseUrl: pg.url });
  const prisma = createPrismaClient({ databaseUrl: pg.url, poolSize: 2 });
  const boot = await bootstrapPlatform({ prisma, adminEmail: 'bench@cic.local', models: DEFAULT_MODELS });
  const model = await prisma.servedModel.findUniqueOrThrow({ where: { name: LOCAL_NODE_MODEL } });
  const node = await prisma.node.create({ data: { provider: 'STATIC', clusterName: 'bench-node', modelId: model.id, status: 'READY', endpointUrl: 'http://127.0.0.1:9' } });
  await prisma.$disconnect();

  const port = await freePort();
  const api = spawnTs('api', 'api/src/main.ts', [], {
    NODE_ENV: 'production', PORT: String(port), DATABASE_URL: pg.url, REDIS_URL: redis.url, LOG_LEVEL: 'warn', SESSION_TOKEN_SECRET: SECRET,
    USAGE_WRITER_ENABLED: 'false',
  });
  stops.push(() => api.stop());
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/readyz`, { timeoutMs: 60_000 });
  return {
    url,
    redisUrl: redis.url,
    nodeId: node.id,
    modelName: model.name,
    organizationId: boot.organizationId,
    /** A 15-minute admin token (the longest the API accepts). */
    adminToken: await signSessionToken({ userId: boot.userId, secret: SECRET, ttlSeconds: 900 }),
    async stop() {
      for (const stop of stops.reverse()) await stop().catch((err: unknown) => console.error('[bench] stop failed', err));
    },
  };
}

/** Reads one gauge from the API's /metrics. */
export async function scrapeGauge(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : Number.NaN;
}
