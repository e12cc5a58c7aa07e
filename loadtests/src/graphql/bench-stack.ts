import { createPrismaClient } from '@cic/db';
import { signSessionToken } from '@cic/core/auth/session-token';
import { bootstrapPlatform } from '@cic/core/bootstrap/bootstrap-platform';
import { DEFAULT_MODELS, LOCAL_NODE_MODEL } from '@cic/core/bootstrap/default-models';
import { startLocalStores } from '../local-stores.ts';
import { spawnApi, spawnListening } from '../processes.ts';

const SECRET = 'graphql-bench-session-secret-0123456789abcdef';
const GC_ON_SIGNAL = new URL('./gc-on-signal.mjs', import.meta.url).pathname;
/** Node flags for the measured servers: SIGUSR2 runs a full GC (gc-on-signal.mjs), so heap readings are live memory. */
const MEASURED = ['--expose-gc', '--import', GC_ON_SIGNAL];

/** What the benchmark reads from a fan-out server. */
export interface ServerStats {
  cpuSeconds: number;
  /** After a full GC when asked for (`stats(true)`), else as it stands. */
  heapBytes: number;
  rssBytes: number;
  sockets: number;
}

/** A server the benchmark fans events out through: where subscribers connect and where events are published. */
export interface FanoutServer {
  name: string;
  url: string;
  /** The Redis channel it fans out. */
  channel: string;
  stats(collectGarbage?: boolean): Promise<ServerStats>;
}

/** The API's REDIS_CHANNEL_PREFIX: the bench publishes straight to its channel, as the jobs worker would. */
const CHANNEL_PREFIX = 'bench:';

const fullGc = async (process: { kill(signal: NodeJS.Signals): boolean }) => {
  process.kill('SIGUSR2');
  await new Promise((r) => setTimeout(r, 500));
};

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
    DATABASE_URL: stores.databaseUrl, REDIS_URL: stores.redisUrl, REDIS_CHANNEL_PREFIX: CHANNEL_PREFIX, SESSION_TOKEN_SECRET: SECRET, USAGE_WRITER_ENABLED: 'false',
    // One bench token stands for 1,000 dashboards: lift the per-user caps and budget meant for one person.
    GRAPHQL_MAX_SUBSCRIPTIONS_PER_VIEWER: '1000000', GRAPHQL_MAX_SUBSCRIPTIONS_PER_ORGANIZATION: '1000000',
    GRAPHQL_RATE_LIMIT_POINTS_PER_MINUTE: '1000000000',
    // …and one loopback address for 1,000 browsers: lift the per-address connection cap (256) too.
    HTTP_MAX_CONNECTIONS_PER_CLIENT: '100000',
  }, MEASURED);
  stops.push(() => api.stop());
  const cic: FanoutServer = {
    name: 'CIC API (graphql-ws)',
    url: api.url,
    channel: `${CHANNEL_PREFIX}nodeStatusChanged`,
    async stats(collectGarbage = false) {
      if (collectGarbage) await fullGc(api.process);
      const [cpuSeconds, heapBytes, rssBytes, sockets] = await Promise.all(['process_cpu_seconds_total', 'nodejs_heap_size_used_bytes', 'process_resident_memory_bytes', 'cic_graphql_ws_connections']
        .map((name) => scrapeGauge(api.url, name)));
      return { cpuSeconds: cpuSeconds!, heapBytes: heapBytes!, rssBytes: rssBytes!, sockets: sockets! };
    },
  };
  return {
    cic,
    url: api.url,
    redisUrl: stores.redisUrl,
    nodeId: node.id,
    modelName: model.name,
    organizationId: boot.organizationId,
    /** A 15-minute admin token (the longest the API accepts). */
    adminToken: await signSessionToken({ userId: boot.userId, secret: SECRET, ttlSeconds: 900 }),
    /** The baseline (bare-fanout.ts) on the same Redis; stop it before measuring the API. */
    async startBareFanout(): Promise<FanoutServer & { stop(): Promise<void> }> {
      const bare = await spawnListening('bare-fanout', 'loadtests/src/graphql/bare-fanout.ts', [stores.redisUrl, 'bench-bare-fanout'], MEASURED);
      return {
        name: 'bare graphql-ws fan-out',
        url: bare.url,
        channel: 'bench-bare-fanout',
        async stats(collectGarbage = false) {
          if (collectGarbage) await fullGc(bare.process);
          const s = (await (await fetch(`${bare.url}/stats`)).json()) as { cpuSeconds: number; heapUsed: number; rss: number; sockets: number };
          return { cpuSeconds: s.cpuSeconds, heapBytes: s.heapUsed, rssBytes: s.rss, sockets: s.sockets };
        },
        stop: () => bare.stop(),
      };
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
