import { join } from 'node:path';
import { createPrismaClient } from '@cic/db';
import { generateKey } from '@cic/core/api-keys/key-format';
import { bootstrapPlatform } from '@cic/core/bootstrap/bootstrap-platform';
import { DEFAULT_MODELS, LOCAL_NODE_MODEL } from '@cic/core/bootstrap/default-models';
import { startLocalStores, type LocalStores } from '../local-stores.ts';
import { spawnApi, spawnSimulator, type Child } from '../processes.ts';
import { startBalancer } from './balancer.ts';

export interface StackOptions {
  apiInstances: number;
  simulators: number;
  /** Extra simulator CLI flags (latencies, output length, capacity). */
  simulatorArgs: string[];
  /** Keys to create: a name and per-minute limits. */
  keys: { name: string; rpm: number; tpm: number }[];
  /** Extra env for the API processes. */
  apiEnv?: Record<string, string>;
  /** Redis with an append-only file, restartable with its data (the chaos suite). */
  durableRedis?: boolean;
}

export interface Stack {
  baseUrl: string;
  apiUrls: string[];
  keys: { name: string; secret: string; rpm: number }[];
  simulators: (Child & { url: string; nodeId: string })[];
  model: string;
  organizationId: string;
  stores: LocalStores;
  apis: (Child & { url: string })[];
  /** Starts API instance `i` again on its port (after it was stopped or killed). */
  restartApi(i: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The full local platform for load tests: Postgres, Redis, N API processes behind a loopback
 * balancer, and M simulator processes registered as READY static nodes.
 */
export async function startStack(options: StackOptions): Promise<Stack> {
  const stops: (() => Promise<void>)[] = [];
  const stores = await startLocalStores({ durableRedis: options.durableRedis });
  stops.push(stores.stop);

  const prisma = createPrismaClient({ databaseUrl: stores.databaseUrl, poolSize: 2 });
  const boot = await bootstrapPlatform({ prisma, adminEmail: 'load@cic.local', models: DEFAULT_MODELS, initialCreditMicros: 1_000_000_000_000n });
  // The load keys' limits are far above the platform ceiling (RATE_LIMIT_MAX_*): lift the organization's.
  if (options.keys.length > 0) {
    await prisma.organization.update({
      where: { id: boot.organizationId },
      data: { maxRpm: Math.max(...options.keys.map((k) => k.rpm)), maxTpm: Math.max(...options.keys.map((k) => k.tpm)) },
    });
  }
  const keys = [];
  for (const k of options.keys) {
    const key = generateKey();
    await prisma.apiKey.create({
      data: { organizationId: boot.organizationId, name: k.name, prefix: key.prefix, secretHash: key.secretHash, rpmLimit: k.rpm, tpmLimit: k.tpm },
    });
    keys.push({ name: k.name, secret: key.secret, rpm: k.rpm });
  }

  const model = await prisma.servedModel.findUniqueOrThrow({ where: { name: LOCAL_NODE_MODEL } });
  const simulators: Stack['simulators'] = [];
  for (let i = 0; i < options.simulators; i++) {
    const sim = await spawnSimulator(`sim-${i}`, ['--model', model.name, ...options.simulatorArgs]);
    stops.push(() => sim.stop());
    const node = await prisma.node.create({
      data: { provider: 'STATIC', clusterName: `load-${i}`, modelId: model.id, endpointUrl: sim.url, status: 'READY', readyAt: new Date(), config: { baseUrl: sim.url } },
    });
    simulators.push({ ...sim, nodeId: node.id });
  }
  await prisma.$disconnect();

  const apis: (Child & { url: string })[] = [];
  stops.push(async () => {
    await Promise.all(apis.map((a) => a.stop()));
  });
  const apiEnv = {
    DATABASE_URL: stores.databaseUrl,
    REDIS_URL: stores.redisUrl,
    SESSION_TOKEN_SECRET: 'load-test-session-secret-0123456789abcdef',
    // Every connection comes from the balancer's address, as behind a real load balancer (docs/security.md).
    HTTP_MAX_CONNECTIONS_PER_CLIENT: '100000',
    ...options.apiEnv,
  };
  // Each instance spools usage records (when neither Redis nor Postgres takes them) in a directory of its own
  // in this run's, never in the machine's shared default where other processes would replay them.
  const spawnInstance = (i: number, port?: number) => spawnApi(`api-${i}`, { ...apiEnv, USAGE_SPOOL_DIR: join(stores.dir, 'usage-spool', `api-${i}`) }, [], port);
  for (let i = 0; i < options.apiInstances; i++) apis.push(await spawnInstance(i));
  const apiUrls = apis.map((a) => a.url);
  const balancer = await startBalancer(apiUrls.map((u) => ({ host: '127.0.0.1', port: Number(new URL(u).port) })));
  stops.push(balancer.close);

  return {
    baseUrl: balancer.url,
    apiUrls,
    keys,
    simulators,
    model: model.name,
    organizationId: boot.organizationId,
    stores,
    apis,
    async restartApi(i) {
      apis[i] = await spawnInstance(i, Number(new URL(apis[i]!.url).port));
    },
    async stop() {
      for (const stop of stops.reverse()) await stop().catch((err: unknown) => console.error('[harness] stop failed', err));
    },
  };
}
