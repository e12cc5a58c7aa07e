import { randomBytes, randomUUID } from 'node:crypto';
import { createTestDatabase, testRedis, type TestDatabase } from '@cic/db/testing';
import type { OrgRole } from '@cic/db';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { buildApi } from '../../src/app.ts';
import { loadApiConfig } from '../../src/config.ts';
import { generateKey } from '@cic/core/api-keys/key-format';
import { signSessionToken } from '@cic/core/auth/session-token';
import { TopicBus } from '@cic/core/lib/topic-bus';

export const SECRET = 'test-session-token-secret-0123456789abcdef';

export interface GqlResult<T = Record<string, unknown>> {
  status: number;
  data?: T | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: { code?: string; requestId?: string } }[];
}

/** POSTs one operation (or a raw body) to /graphql. */
export async function gql<T = Record<string, unknown>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  options: { auth?: string; headers?: Record<string, string>; body?: unknown } = {},
): Promise<GqlResult<T>> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', ...(options.auth ? { authorization: `Bearer ${options.auth}` } : {}), ...options.headers },
    body: JSON.stringify(options.body ?? { query, variables }),
  });
  const body = (await res.json()) as Omit<GqlResult<T>, 'status'>;
  return { status: res.status, ...body };
}

/**
 * One test file's world: its own database and BullMQ prefix, two tenants (each an owner, a member and
 * a `graphql` key), a platform admin, a served model and a node; API instances started on demand.
 */
export async function createGraphQLWorld() {
  const db: TestDatabase = await createTestDatabase();
  const redis = testRedis();
  const { prisma } = db;
  const bullPrefix = `test-${randomUUID()}`;
  // Publishes as the jobs worker does: a connection and bus of its own, on the world's channel prefix.
  const publisher = new Redis(redis.url);
  const bus = new TopicBus({ redis: publisher, prefix: redis.prefix, log: pino({ level: 'silent' }) });
  const apis: { stop(): Promise<void> }[] = [];
  const suffix = () => randomBytes(4).toString('hex');

  async function user(email: string, isPlatformAdmin = false) {
    return prisma.user.create({ data: { email: `${email}-${suffix()}@example.com`.toLowerCase(), isPlatformAdmin } });
  }
  async function key(organizationId: string, scopes: string[] = ['graphql']) {
    const k = generateKey();
    const row = await prisma.apiKey.create({ data: { organizationId, name: `key-${suffix()}`, prefix: k.prefix, secretHash: k.secretHash, scopes } });
    return { secret: k.secret, id: row.id, prefix: k.prefix };
  }
  async function tenant(name: string) {
    const org = await prisma.organization.create({ data: { name, slug: `${name.toLowerCase()}-${suffix()}` } });
    const owner = await user(`${name}-owner`);
    const member = await user(`${name}-member`);
    const add = (userId: string, role: OrgRole) => prisma.membership.create({ data: { userId, organizationId: org.id, role } });
    const ownerMembership = await add(owner.id, 'OWNER');
    const memberMembership = await add(member.id, 'MEMBER');
    await prisma.billingAccount.create({ data: { organizationId: org.id, balanceMicros: 7_000_000n } });
    await prisma.ledgerEntry.create({ data: { organizationId: org.id, type: 'ADJUSTMENT', amountMicros: 7_000_000n, sourceId: `seed-${org.id}`, description: 'seed' } });
    const apiKey = await key(org.id);
    return {
      org, owner, member, ownerMembership, memberMembership, apiKey,
      ownerToken: await token(owner.id), memberToken: await token(member.id),
    };
  }
  const token = (userId: string, ttlSeconds = 600) => signSessionToken({ userId, secret: SECRET, ttlSeconds });

  const model = await prisma.servedModel.create({ data: { name: `test/model-${suffix()}`, maxModelLen: 4096, promptPriceMicros: 1_000_000n, completionPriceMicros: 2_000_000n } });
  const admin = await user('admin', true);
  const adminToken = await token(admin.id);
  const node = await prisma.node.create({ data: { provider: 'STATIC', clusterName: `n-${suffix()}`, modelId: model.id, endpointUrl: 'http://10.0.0.1:8000', status: 'READY' } });

  async function startApi(env: Record<string, string> = {}, log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' })) {
    const config = loadApiConfig({
      NODE_ENV: 'test', PORT: '0', DATABASE_URL: db.url, REDIS_URL: redis.url, SHUTDOWN_GRACE_SECONDS: '2', SHUTDOWN_ANNOUNCE_MS: '0',
      INFERENCE_REDIS_PREFIX: redis.prefix, REDIS_CHANNEL_PREFIX: redis.prefix, GRAPHQL_REDIS_PREFIX: `${redis.prefix}gql:`, SESSION_TOKEN_SECRET: SECRET, NODE_SECRET_KEY: 'graphql-fixture-node-secret-key-0123456789', BULLMQ_PREFIX: bullPrefix, USAGE_WRITER_ENABLED: 'false', ...env,
    });
    const api = buildApi({ config, log });
    const { url } = await api.start();
    let stopped: Promise<void> | undefined;
    const stop = () => (stopped ??= api.stop());
    apis.push({ stop });
    return { ...api, stop, url };
  }

  return {
    db, prisma, redis, bus, bullPrefix, model, admin, adminToken, node, user, key, tenant, token, startApi,
    async close() {
      await Promise.allSettled(apis.map((a) => a.stop()));
      await bus.close();
      publisher.disconnect();
      await db.drop();
    },
  };
}

export { eventually } from '../helpers/eventually.ts';
