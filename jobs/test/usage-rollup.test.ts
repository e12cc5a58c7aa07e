import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '@cic/db/testing';
import { rollupUsage } from '@cic/core/usage/rollup-usage';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleUsageRollup } from '../src/handlers/rollup-usage.ts';
import { startTestWorkers, testConfig } from './harness.ts';

let db: TestDatabase;
const orgs: { id: string; keys: string[] }[] = [];
const PRICES = { 'm/priced': [123_457n, 987_653n], 'm/free': [0n, 0n] } as const;

beforeAll(async () => {
  db = await createTestDatabase();
  for (const [name, [p, c]] of Object.entries(PRICES)) {
    await db.prisma.servedModel.create({ data: { name, promptPriceMicros: p, completionPriceMicros: c } });
  }
  for (let o = 0; o < 2; o++) {
    const org = await db.prisma.organization.create({ data: { name: `Org ${o}`, slug: `org-${o}-${randomUUID().slice(0, 8)}` } });
    const keys: string[] = [];
    for (let k = 0; k < 2; k++) {
      const key = await db.prisma.apiKey.create({ data: { organizationId: org.id, name: `k${k}`, prefix: randomUUID().slice(0, 12), secretHash: 'x' } });
      keys.push(key.id);
    }
    orgs.push({ id: org.id, keys });
  }
});
afterAll(() => db?.drop());

let seq = 0;
/** Inserts `n` usage records spread over three UTC hours, models and keys (deterministic). */
async function insertRecords(n: number, hourOffset = 0) {
  const base = Date.UTC(2026, 10, 28, 10) + hourOffset * 3_600_000;
  const data = Array.from({ length: n }, () => {
    const i = seq++;
    const org = orgs[i % 2]!;
    return {
      id: `use_${randomUUID()}`, requestId: `req_${i}`, organizationId: org.id, apiKeyId: org.keys[(i >> 1) % 2]!,
      modelName: i % 3 === 0 ? 'm/free' : 'm/priced', endpoint: '/v1/chat/completions', stream: i % 2 === 0,
      promptTokens: (i * 37) % 500 + 1, completionTokens: (i * 101) % 700, durationMs: 10, status: i % 7 === 0 ? 500 : 200,
      outcome: i % 7 === 0 ? 'ERROR' as const : 'SUCCESS' as const, startedAt: new Date(base + ((i * 7919) % (3 * 3_600_000))),
    };
  });
  await db.prisma.usageRecord.createMany({ data });
}

/** The expected state computed independently from the records: per bucket totals and ceil-rounded cost. */
async function expected() {
  const records = await db.prisma.usageRecord.findMany();
  const buckets = new Map<string, { requests: number; prompt: bigint; completion: bigint; cost: bigint; org: string }>();
  for (const r of records) {
    const hour = new Date(Math.floor(r.startedAt.getTime() / 3_600_000) * 3_600_000).toISOString();
    const key = `${r.organizationId}|${r.apiKeyId}|${r.modelName}|${hour}`;
    const b = buckets.get(key) ?? { requests: 0, prompt: 0n, completion: 0n, cost: 0n, org: r.organizationId };
    b.requests++;
    b.prompt += BigInt(r.promptTokens);
    b.completion += BigInt(r.completionTokens);
    buckets.set(key, b);
  }
  for (const [key, b] of buckets) {
    const [p, c] = PRICES[key.split('|')[2] as keyof typeof PRICES];
    b.cost = (b.prompt * p + b.completion * c + 999_999n) / 1_000_000n;
  }
  return buckets;
}

async function assertExact() {
  const want = await expected();
  const rows = await db.prisma.usageHourly.findMany();
  const got = new Map(rows.map((r) => [`${r.organizationId}|${r.apiKeyId}|${r.modelName}|${r.hour.toISOString()}`, r]));
  expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
  for (const [key, b] of want) {
    const row = got.get(key)!;
    expect({ requests: row.requests, prompt: row.promptTokens, completion: row.completionTokens, cost: row.costMicros }).toEqual({ requests: b.requests, prompt: b.prompt, completion: b.completion, cost: b.cost });
  }
  for (const org of orgs) {
    const cost = [...want.values()].filter((b) => b.org === org.id).reduce((s, b) => s + b.cost, 0n);
    const ledger = await db.prisma.ledgerEntry.aggregate({ where: { organizationId: org.id, type: 'USAGE' }, _sum: { amountMicros: true } });
    expect(ledger._sum.amountMicros ?? 0n).toBe(-cost);
    const account = await db.prisma.billingAccount.findUnique({ where: { organizationId: org.id } });
    expect(account?.balanceMicros ?? 0n).toBe(-cost);
  }
  expect(await db.prisma.usageRecord.count({ where: { rolledUpAt: null } })).toBe(0);
}

describe('usage rollup', () => {
  it('totals equal the records exactly when run twice in a row', async () => {
    await insertRecords(120);
    const first = await rollupUsage({ prisma: db.prisma });
    expect(first.buckets).toBeGreaterThan(0);
    const second = await rollupUsage({ prisma: db.prisma });
    expect(second).toEqual({ buckets: 0, chargedOrganizations: [], chargedMicros: 0n });
    await assertExact();
  });

  it('late records re-total their hour and only the difference is charged, even with concurrent runs', async () => {
    const entriesBefore = await db.prisma.ledgerEntry.count();
    await insertRecords(90); // same hours as before: late records for already charged hours
    await insertRecords(30, 5); // and new hours
    const runs = await Promise.all([1, 2, 3, 4].map(() => rollupUsage({ prisma: db.prisma })));
    expect(runs.reduce((s, r) => s + r.chargedMicros, 0n)).toBeGreaterThan(0n);
    await assertExact();
    expect(await db.prisma.ledgerEntry.count()).toBeGreaterThan(entriesBefore);
    const ids = await db.prisma.ledgerEntry.findMany({ select: { sourceId: true } });
    expect(ids.every((e) => e.sourceId.startsWith('usage:'))).toBe(true);
  });

  it('the job publishes billingChanged with the new balance for charged organizations, on the prefixed channels', async () => {
    const config = testConfig(db.url);
    const workers = startTestWorkers(config);
    const sub = new Redis(config.REDIS_URL);
    const messages: { organizationId: string; balanceMicros: string }[] = [];
    sub.on('message', (_c, m: string) => messages.push(JSON.parse(m) as (typeof messages)[number]));
    await sub.subscribe(...orgs.slice(0, 2).map((org) => `${config.REDIS_CHANNEL_PREFIX}billingChanged:${org.id}`));
    try {
      await insertRecords(10);
      const result = await handleUsageRollup(workers.handlerContext(AbortSignal.timeout(30_000)));
      expect(BigInt(result.chargedMicros)).toBeGreaterThan(0n);
      while (messages.length < 2) await new Promise((r) => setTimeout(r, 20));
      for (const org of orgs) {
        const account = await db.prisma.billingAccount.findUniqueOrThrow({ where: { organizationId: org.id } });
        expect(messages.find((m) => m.organizationId === org.id)?.balanceMicros).toBe(account.balanceMicros.toString());
      }
      await assertExact();
    } finally {
      await sub.quit();
      await workers.stop();
    }
  });
});
