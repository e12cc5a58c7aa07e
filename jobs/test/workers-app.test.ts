import { randomUUID } from 'node:crypto';
import { createTestDatabase, testRedis, type TestDatabase } from '@cic/db/testing';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorkers } from '../src/app.ts';
import { loadJobsConfig } from '../src/config.ts';
import { startRedis } from '../../scripts/lib/redis.mjs';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.drop());

const build = (redisUrl: string) =>
  buildWorkers({
    // Own queue prefix: the run's Redis is shared, and these workers upsert their schedulers.
    config: loadJobsConfig({ JOBS_PORT: '0', DATABASE_URL: db.url, REDIS_URL: redisUrl, BULLMQ_PREFIX: `w${randomUUID().slice(0, 8)}` }),
    log: pino({ level: 'silent' }),
  });

describe('job workers service', () => {
  it('starts on a noeviction Redis, serves /metrics and /healthz, and stops cleanly', async () => {
    const workers = build(testRedis().url);
    const { url } = await workers.start();
    try {
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      const model = await db.prisma.servedModel.create({ data: { name: `metrics-${Date.now()}` } });
      await db.prisma.node.create({ data: { provider: 'STATIC', clusterName: `m-${Date.now()}`, modelId: model.id, status: 'READY' } });
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toContain('process_resident_memory_bytes');
      expect(metrics).toContain(`cic_nodes{status="READY",model="${model.name}"} 1`);
      expect(metrics).toContain(`cic_nodes{status="FAILED",model="${model.name}"} 0`);
    } finally {
      await workers.stop();
    }
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });

  it('refuses to run on a Redis that may evict keys', async () => {
    const server = await startRedis();
    const admin = new Redis(server.url);
    try {
      await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
      const workers = build(server.url);
      await expect(workers.start()).rejects.toThrow(/maxmemory-policy is "allkeys-lru"; job queues need "noeviction"/);
      await workers.stop();
    } finally {
      admin.disconnect();
      await server.stop();
    }
  });
});
