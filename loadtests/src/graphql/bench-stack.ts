import { createPrismaClient } from '@cic/db';
import { signSessionToken } from '@cic/api/services/auth/session-token';
import { bootstrapPlatform } from '@cic/api/services/bootstrap/bootstrap-platform';
import { DEFAULT_MODELS, LOCAL_NODE_MODEL } from '@cic/api/services/bootstrap/default-models';
import { startLocalStores } from '../local-stores.ts';
import { spawnApi } from '../processes.ts';

const SECRET = 'graphql-bench-session-secret-0123456789abcdef';
const GC_ON_SIGNAL = new URL('./gc-on-signal.mjs', import.meta.url).pathname;

/** Postgres, Redis, one API process (production mode) and an admin session token for it. */
export async function startGraphQLBenchStack() {
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((err: unknown) => console.error('[bench] stop failed', err));
  };
  try {
    return await start(stops, stopAll);
  } catch (err) {
    await stopAll(); // a failed start must not leave Postgres and Redis running
    throw err;
  }
}

async function start(stops: (() => Promise<void>)[], stopAll: () => Promise<void>) {
  const stores = await startLocalStores();
  stops.push(stores.stop);
  const prisma = createPrismaClient({ databaseUrl: stores.databaseUrl, poolSize: 2 });
  const boot = await bootstrapPlatform({ prisma, adminEmail: 'bench@cic.local', models: DEFAULT_MODELS });
  const model = await prisma.servedModel.findUniqueOrThrow({ where: { name: LOCAL_NODE_MODEL } });
  const node = await prisma.node.create({ data: { provider: 'STATIC', clusterName: 'bench-node', modelId: model.id, status: 'READY', endpointUrl: 'http://127.0.0.1:9' } });
  await prisma.$disconnect();

  const api = await spawnApi('api', {
    DATABASE_URL: stores.databaseUrl, REDIS_URL: stores.redisUrl, SESSION_TOKEN_SECRET: SECRET, USAGE_WRITER_ENABLED: 'false',
  }, ['--expose-gc', '--import', GC_ON_SIGNAL]);
  stops.push(() => api.stop());
  return {
    url: api.url,
    redisUrl: stores.redisUrl,
    nodeId: node.id,
    modelName: model.name,
    organizationId: boot.organizationId,
    /** A 15-minute admin token (the longest the API accepts). */
    adminToken: await signSessionToken({ userId: boot.userId, secret: SECRET, ttlSeconds: 900 }),
    /** Heap used by live objects: a full GC in the API first (gc-on-signal.mjs), then its /metrics. */
    async liveHeapBytes(): Promise<number> {
      api.process.kill('SIGUSR2');
      await new Promise((r) => setTimeout(r, 500));
      return scrapeGauge(api.url, 'nodejs_heap_size_used_bytes');
    },
    stop: stopAll,
  };
}

/** Reads one gauge from the API's /metrics. */
export async function scrapeGauge(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : Number.NaN;
}
