import { createPrismaClient } from '@cic/db';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TopicBus } from '@cic/core/lib/topic-bus';
import { createInferenceMetrics } from '../../src/inference/inference-metrics.ts';
import { newUsageId, type UsageRecordMessage } from '../../src/inference/usage-record.ts';
import { createUsageWriter } from '../../src/inference/usage-writer.ts';
import { createInferenceWorld, type InferenceWorld, MODEL } from './inference-fixture.ts';

let world: InferenceWorld;
let redis: Redis;
let bus: TopicBus;
let keyId: string;
const log = pino({ level: 'silent' });

beforeAll(async () => {
  world = await createInferenceWorld();
  redis = new Redis(world.redis.url);
  bus = new TopicBus({ redis, prefix: world.redis.prefix, log });
  keyId = (await world.createKey()).id;
});

afterAll(async () => {
  redis?.disconnect();
  await world?.close();
});

const message = (over: Partial<UsageRecordMessage> = {}): UsageRecordMessage => ({
  id: newUsageId(), requestId: 'req_test', organizationId: world.org.id, apiKeyId: keyId, modelName: MODEL, nodeId: null, endpoint: '/v1/chat/completions',
  stream: true, promptTokens: 10, completionTokens: 5, cachedTokens: 0, estimated: false, ttftMs: 3, durationMs: 9, status: 200, outcome: 'SUCCESS',
  errorCode: null, startedAt: new Date().toISOString(), endedAt: Date.now(), ...over,
});

function writer(streamKey: string, claimIdleMs = 60_000, prisma = world.prisma) {
  return createUsageWriter({ prisma, reader: new Redis(world.redis.url), redis, bus, streamKey, log, metrics: createInferenceMetrics(new Registry()), claimIdleMs });
}

describe('usage writer', () => {
  it('writes each record once even when the stream holds it twice, then acknowledges and trims', async () => {
    const streamKey = `${world.redis.prefix}usage-dup`;
    const m = message();
    await redis.xadd(streamKey, '*', 'r', JSON.stringify(m));
    await redis.xadd(streamKey, '*', 'r', JSON.stringify(m));
    const w = writer(streamKey);
    w.start();
    await world.eventually(async () => (await redis.xlen(streamKey)) === 0);
    await w.stop();
    expect(await world.prisma.usageRecord.count({ where: { id: m.id } })).toBe(1);
    const pending = (await redis.xpending(streamKey, 'usage-writer')) as [number, ...unknown[]];
    expect(pending[0]).toBe(0);
  });

  it('takes over entries a dead consumer read but never acknowledged', async () => {
    const streamKey = `${world.redis.prefix}usage-claim`;
    await redis.xgroup('CREATE', streamKey, 'usage-writer', '0', 'MKSTREAM');
    const m = message();
    await redis.xadd(streamKey, '*', 'r', JSON.stringify(m));
    // A consumer that crashed after reading: the entry sits in its pending list.
    await redis.xreadgroup('GROUP', 'usage-writer', 'crashed-instance', 'COUNT', 10, 'STREAMS', streamKey, '>');
    const w = writer(streamKey, 100);
    await new Promise((r) => setTimeout(r, 150));
    w.start();
    await world.eventually(() => world.prisma.usageRecord.findUnique({ where: { id: m.id } }));
    await w.stop();
  });

  it('leaves records pending while the database is down; another writer stores them later', async () => {
    const streamKey = `${world.redis.prefix}usage-down`;
    const m = message();
    await redis.xadd(streamKey, '*', 'r', JSON.stringify(m));
    const deadDb = createPrismaClient({ databaseUrl: 'postgresql://postgres@127.0.0.1:1/nowhere', poolSize: 1 });
    const failing = writer(streamKey, 60_000, deadDb);
    failing.start();
    await world.eventually(async () => {
      const [count] = (await redis.xpending(streamKey, 'usage-writer')) as [number];
      return count === 1;
    });
    await failing.stop();
    await deadDb.$disconnect();
    expect(await redis.xlen(streamKey)).toBe(1);
    const healthy = writer(streamKey, 100);
    await new Promise((r) => setTimeout(r, 150));
    healthy.start();
    await world.eventually(() => world.prisma.usageRecord.findUnique({ where: { id: m.id } }));
    await world.eventually(async () => (await redis.xlen(streamKey)) === 0);
    await healthy.stop();
  });

  it('drops only a row whose organization is gone and writes the rest of its batch', async () => {
    const streamKey = `${world.redis.prefix}usage-retry`;
    const m = message({ organizationId: 'org_missing' });
    await redis.xadd(streamKey, '*', 'r', JSON.stringify(m));
    const good = message();
    await redis.xadd(streamKey, '*', 'r', JSON.stringify(good));
    const w = writer(streamKey);
    w.start();
    // The orphan row cannot be stored (foreign key): it is dropped alone, the good one is written.
    await world.eventually(() => world.prisma.usageRecord.findUnique({ where: { id: good.id } }));
    await world.eventually(async () => (await redis.xlen(streamKey)) === 0);
    await w.stop();
    expect(await world.prisma.usageRecord.findUnique({ where: { id: m.id } })).toBeNull();
  });
});
