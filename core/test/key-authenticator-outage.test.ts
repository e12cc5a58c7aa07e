import { randomUUID } from 'node:crypto';
import { createPrismaClient, type PrismaClient } from '@cic/db';
import { createTestDatabase, testRedis, type TestDatabase } from '@cic/db/testing';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyAuthenticator } from '../src/api-keys/key-authenticator.ts';
import { generateKey } from '../src/api-keys/key-format.ts';
import { AppError } from '../src/errors.ts';
import { createRedis } from '../src/lib/redis.ts';
import { TopicBus } from '../src/lib/topic-bus.ts';
import { hostPortOf, startTcpProxy, type TcpProxy } from './tcp-proxy.ts';

// Issue 13, item 4: a Postgres outage. The authenticator reaches Postgres through a proxy the test cuts;
// the test itself (creating and revoking keys) talks to Postgres directly.
const { url: redisUrl, prefix } = testRedis();
const log = pino({ level: 'silent' });
const platformLimits = { defaultRpm: 60, defaultTpm: 10_000, maxRpm: 600, maxTpm: 100_000 };
let db: TestDatabase;
let proxy: TcpProxy;
let proxied: PrismaClient;
let bus: TopicBus;
let organizationId: string;
const closers: (() => Promise<void> | void)[] = [];
beforeAll(async () => {
  db = await createTestDatabase();
  proxy = await startTcpProxy(hostPortOf(db.url, 5432));
  proxied = createPrismaClient({ databaseUrl: proxy.urlFor(db.url), poolSize: 2, connectionTimeoutMs: 500 });
  const redis = createRedis(redisUrl, log);
  bus = new TopicBus({ redis, prefix: `${prefix}bus:`, log });
  closers.push(() => redis.disconnect(), () => bus.close());
  organizationId = (await db.prisma.organization.create({ data: { name: 'Outage', slug: `outage-${randomUUID().slice(0, 8)}` } })).id;
});
afterAll(async () => {
  for (const close of closers.reverse()) await close();
  await proxied.$disconnect();
  await proxy.close();
  await db.drop();
});

async function newKey() {
  const key = generateKey();
  const row = await db.prisma.apiKey.create({ data: { organizationId, name: 'k', prefix: key.prefix, secretHash: key.secretHash } });
  return { ...row, secret: key.secret };
}

async function newAuthenticator(maxStaleMs?: number) {
  const registry = new Registry();
  // Short TTLs: every check below finds its cached entry expired, so it must ask Postgres first.
  const keys = new KeyAuthenticator({ prisma: proxied, bus, log, platformLimits, cacheTtlMs: 1, negativeTtlMs: 1, registry, ...(maxStaleMs === undefined ? {} : { maxStaleMs }) });
  await keys.start();
  await bus.settled();
  closers.push(() => keys.stop());
  return { keys, registry };
}

const refusal = (p: Promise<unknown>) => p.then(() => null, (err: unknown) => (err instanceof AppError ? err : Promise.reject(err)));
const until = async (check: () => Promise<boolean>, what: string) => {
  for (let i = 0; i < 400; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
};

describe('KeyAuthenticator while Postgres is unreachable', () => {
  it('serves known keys from the cache, answers 503 + Retry-After for unknown ones, and still honours revocations', async () => {
    const { keys, registry } = await newAuthenticator();
    const [known, toRevoke, unseen] = [await newKey(), await newKey(), await newKey()];
    await keys.authenticate(known.secret);
    await keys.authenticate(toRevoke.secret);
    expect(bus.listening).toBe(true);

    proxy.cut();
    try {
      await new Promise((r) => setTimeout(r, 5)); // past the 1 ms TTL
      expect((await keys.authenticate(known.secret)).id).toBe(known.id);
      const unknown = await refusal(keys.authenticate(unseen.secret));
      expect(unknown?.code).toBe('UNAVAILABLE');
      expect(unknown?.status).toBe(503);
      expect(Number(unknown?.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect((await keys.authenticate(known.secret)).id).toBe(known.id); // still, during the backoff

      // Revoked (committed by another instance, announced over Redis): refused at once.
      await db.prisma.apiKey.update({ where: { id: toRevoke.id }, data: { revokedAt: new Date() } });
      await bus.publish('apiKeyChanged', { keyId: toRevoke.id, prefix: toRevoke.prefix });
      await until(async () => (await refusal(keys.authenticate(toRevoke.secret))) !== null, 'the revocation');
      expect((await refusal(keys.authenticate(toRevoke.secret)))?.status).toBe(503);
      const answers = (await registry.getSingleMetric('cic_api_key_outage_answers_total')!.get()).values;
      expect(answers.find((v) => v.labels.outcome === 'stale')?.value).toBeGreaterThanOrEqual(2);
      expect(answers.find((v) => v.labels.outcome === 'unavailable')?.value).toBeGreaterThanOrEqual(2);
    } finally {
      proxy.restore();
    }
    // Postgres back: the unseen key is looked up, the revoked one refused as revoked.
    await until(async () => (await refusal(keys.authenticate(unseen.secret))) === null, 'Postgres to answer again');
    expect((await refusal(keys.authenticate(toRevoke.secret)))?.message).toMatch(/revoked/);
  });

  it('staleness is bounded: a key confirmed longer ago than maxStaleMs is refused with 503', async () => {
    const { keys } = await newAuthenticator(20);
    const key = await newKey();
    await keys.authenticate(key.secret);
    await new Promise((r) => setTimeout(r, 40));
    proxy.cut();
    try {
      expect((await refusal(keys.authenticate(key.secret)))?.status).toBe(503);
    } finally {
      proxy.restore();
    }
  });
});
