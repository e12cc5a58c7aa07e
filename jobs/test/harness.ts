import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NodeProvider, NodeStatus, PrismaClient } from '@cic/db';
import { testRedis } from '@cic/db/testing';
import { createNodeSecretBox } from '@cic/core/nodes/node-secret';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { buildWorkers } from '../src/app.ts';
import { loadJobsConfig } from '../src/config.ts';

export const FAKE_SKY = fileURLToPath(new URL('./fixtures/fake-sky', import.meta.url));
export const MODEL = 'cic/sim-echo-1';

export interface FakeCluster {
  name: string;
  status: string;
  task?: { resources: Record<string, unknown>; envs: Record<string, string>; secrets: Record<string, null>; run: string };
  secretDigests?: Record<string, string>;
}

/** A fake-sky state dir for this test file (the sky child inherits FAKE_SKY_STATE from process.env). */
export function fakeSkyState() {
  const dir = mkdtempSync(join(tmpdir(), 'fake-sky-'));
  process.env.FAKE_SKY_STATE = dir;
  return {
    dir,
    control(value: { fail?: Record<string, string>; hang?: string[]; launchDelayMs?: number; ip?: string }) {
      writeFileSync(join(dir, 'control.json'), JSON.stringify(value));
    },
    /** Clusters as the fake CLI recorded them: the parsed task and a SHA-256 of each secret it was given. */
    clusters(): FakeCluster[] {
      const d = join(dir, 'clusters');
      return existsSync(d) ? readdirSync(d).map((f) => JSON.parse(readFileSync(join(d, f), 'utf8')) as FakeCluster) : [];
    },
    calls(): string[][] {
      const f = join(dir, 'calls.log');
      return existsSync(f) ? readFileSync(f, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { argv: string[] }).argv) : [];
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Test config: fast schedules, short timeouts, an isolated BullMQ prefix and channel prefix. */
export function testConfig(databaseUrl: string, overrides: Record<string, string> = {}, redisUrl = testRedis().url) {
  return loadJobsConfig({
    JOBS_PORT: '0', DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, BULLMQ_PREFIX: `t${Math.random().toString(36).slice(2)}`,
    REDIS_CHANNEL_PREFIX: `t${Math.random().toString(36).slice(2)}:`,
    SKY_BIN: FAKE_SKY, HEALTH_CHECK_INTERVAL_MS: '300', RECONCILE_INTERVAL_MS: '3600000', USAGE_ROLLUP_INTERVAL_MS: '3600000',
    HEALTH_PROBE_TIMEOUT_MS: '1000', NODE_READY_TIMEOUT_SECONDS: '20', DRAIN_TIMEOUT_SECONDS: '5', SHUTDOWN_GRACE_SECONDS: '5',
    SKY_LAUNCH_TIMEOUT_SECONDS: '20', SKY_COMMAND_TIMEOUT_SECONDS: '20', NODE_SECRET_KEY, ...overrides,
  });
}

export function startTestWorkers(config: ReturnType<typeof testConfig>) {
  return buildWorkers({ config, log: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }) });
}

export async function ensureModel(prisma: PrismaClient, name = MODEL) {
  return prisma.servedModel.upsert({ where: { name }, update: {}, create: { name, promptPriceMicros: 100_000n, completionPriceMicros: 300_000n } });
}

/** The key tests seal node API keys with (the workers get it as NODE_SECRET_KEY). */
export const NODE_SECRET_KEY = `test-node-secret-${randomUUID()}`;
export const nodeSecrets = createNodeSecretBox(NODE_SECRET_KEY);

/**
 * The row the GraphQL launchNode mutation inserts (a PENDING node); tests then enqueue `node.launch`.
 * `apiKey` stores a known key (a STATIC node's, or one a launch then keeps instead of generating its own).
 */
export async function createNode(prisma: PrismaClient, provider: NodeProvider, config: object = {}, extra: { accelerator?: string; apiKey?: string } = {}) {
  const model = await ensureModel(prisma);
  return prisma.node.create({
    data: {
      provider, modelId: model.id, clusterName: `cic-test-${Math.random().toString(36).slice(2, 10)}`, config, accelerator: extra.accelerator ?? null,
      apiKeyCiphertext: extra.apiKey ? nodeSecrets.seal(extra.apiKey) : null,
    },
  });
}

/** The node's API key, as the workers stored it. */
export async function nodeApiKeyOf(prisma: PrismaClient, nodeId: string): Promise<string | null> {
  const { apiKeyCiphertext } = await prisma.node.findUniqueOrThrow({ where: { id: nodeId }, select: { apiKeyCiphertext: true } });
  return apiKeyCiphertext ? nodeSecrets.open(apiKeyCiphertext) : null;
}

/** Polls the node until it reaches one of `statuses` (the test's own timeout bounds the wait). */
export async function waitForStatus(prisma: PrismaClient, nodeId: string, statuses: NodeStatus[]) {
  for (;;) {
    const node = await prisma.node.findUniqueOrThrow({ where: { id: nodeId } });
    if (statuses.includes(node.status)) return node;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Collects the node's live events from its Redis channel (the workers' channel prefix included), in publish order. */
export async function subscribeNodeEvents(config: Pick<ReturnType<typeof testConfig>, 'REDIS_URL' | 'REDIS_CHANNEL_PREFIX'>, nodeId: string) {
  const sub = new Redis(config.REDIS_URL);
  const events: { kind: string; message: string; toStatus: string | null }[] = [];
  sub.on('message', (_channel, message: string) => events.push(JSON.parse(message) as (typeof events)[number]));
  await sub.subscribe(`${config.REDIS_CHANNEL_PREFIX}nodeEvents:${nodeId}`);
  const transitions = () => events.filter((e) => e.kind === 'TRANSITION').map((e) => e.toStatus);
  return {
    events,
    /** The statuses published so far, once at least `count` arrived (publishing follows the commit). */
    async transitions(count = 0) {
      while (transitions().length < count) await new Promise((r) => setTimeout(r, 20));
      return transitions();
    },
    close: () => sub.quit(),
  };
}
