import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, testRedis, type TestDatabase } from '@cic/db/testing';
import { pino } from 'pino';
import { buildApi } from '../../src/app.ts';
import { loadApiConfig } from '../../src/config.ts';
import type { CreditGate } from '@cic/core/billing/credit-gate';
import { eventually } from '../helpers/eventually.ts';
import { generateKey } from '@cic/core/api-keys/key-format';
import { createSimulator, type Simulator } from '@cic/vllm-sim';
import type { SimulatorOptions } from '@cic/vllm-sim';

export const MODEL = 'cic/sim-echo-1';

/** A simulator with no latency, so tests prove behaviour without waiting on timers. */
export const startSim = (options: SimulatorOptions = {}): Promise<Simulator> =>
  createSimulator({ model: MODEL, ttftMs: 0, ttftSpreadMs: 0, itlMs: 0, itlSpreadMs: 0, seed: 7, ...options });

/** One test file's world: its own database, Redis prefix, organization, key and served model. */
export async function createInferenceWorld() {
  const db: TestDatabase = await createTestDatabase();
  const redis = testRedis();
  const { prisma } = db;
  // Funded, so the real billing credit gate (on by default) admits its requests.
  const org = await prisma.organization.create({
    data: { name: 'Acme', slug: `acme-${randomBytes(4).toString('hex')}`, billingAccount: { create: { balanceMicros: 1_000_000_000n } } },
  });
  const model = await prisma.servedModel.create({ data: { name: MODEL, maxModelLen: 4096 } });
  const apis: { stop(): Promise<void> }[] = [];
  // The usage spool of this world's API instances: never another test file's (a spool is replayed into the database of whoever starts next).
  const spoolDir = await mkdtemp(join(tmpdir(), 'cic-usage-spool-'));

  async function createKey(data: { scopes?: string[]; rpmLimit?: number; tpmLimit?: number } = {}) {
    const k = generateKey();
    const row = await prisma.apiKey.create({ data: { organizationId: org.id, name: 'test', prefix: k.prefix, secretHash: k.secretHash, ...data } });
    return { secret: k.secret, id: row.id, prefix: k.prefix };
  }

  /** Another served model, so a scenario's nodes do not mix with the others'. */
  async function addModel(name: string) {
    return prisma.servedModel.create({ data: { name, maxModelLen: 4096 } });
  }

  async function addNode(url: string, options: { modelId?: string; status?: 'READY' | 'UNHEALTHY' } = {}) {
    return prisma.node.create({
      data: { provider: 'STATIC', clusterName: `sim-${randomBytes(4).toString('hex')}`, modelId: options.modelId ?? model.id, endpointUrl: url, status: options.status ?? 'READY' },
    });
  }

  async function startApi(options: { env?: Record<string, string>; creditGate?: CreditGate; redisUrl?: string } = {}) {
    const config = loadApiConfig({
      NODE_ENV: 'test', PORT: '0', DATABASE_URL: db.url, REDIS_URL: options.redisUrl ?? redis.url, SHUTDOWN_GRACE_SECONDS: '5', SHUTDOWN_ANNOUNCE_MS: '0',
      INFERENCE_REDIS_PREFIX: redis.prefix, REDIS_CHANNEL_PREFIX: redis.prefix, INFERENCE_NODE_REFRESH_MS: '200', USAGE_SPOOL_DIR: spoolDir, ...options.env,
    });
    const api = buildApi({ config, log: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }), creditGate: options.creditGate });
    const { url, port } = await api.start();
    let stopped: Promise<void> | undefined;
    const stop = () => (stopped ??= api.stop());
    apis.push({ stop });
    return { ...api, stop, url, port, baseURL: `${url}/v1` };
  }


  return {
    db, prisma, redis, org, model, spoolDir, createKey, addModel, addNode, startApi, eventually,
    async close() {
      await Promise.allSettled(apis.map((a) => a.stop()));
      await db.drop();
      await rm(spoolDir, { recursive: true, force: true });
    },
  };
}

export type InferenceWorld = Awaited<ReturnType<typeof createInferenceWorld>>;

export async function postJson(url: string, body: unknown, key?: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}
