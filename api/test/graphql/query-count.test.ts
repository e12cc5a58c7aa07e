import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '@cic/db';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createGraphQLMetrics } from '../../src/graphql/graphql-metrics.ts';
import { createGraphQLYoga } from '../../src/graphql/create-yoga.ts';
import { CostBudget } from '../../src/graphql/cost-budget.ts';
import { SubscriptionLimits } from '../../src/graphql/subscription-limits.ts';
import type { GraphQLServices } from '../../src/graphql/context.ts';
import { LiveAuthorization } from '../../src/graphql/live-authorization.ts';
import { NodeSnapshots } from '../../src/graphql/node-snapshots.ts';
import { KeyAuthenticator } from '@cic/core/api-keys/key-authenticator';
import { TopicBus } from '@cic/core/lib/topic-bus';
import { nodeSecretBoxOf } from '@cic/core/nodes/node-secret';
import { createGraphQLWorld, SECRET } from './graphql-fixture.ts';

let world: Awaited<ReturnType<typeof createGraphQLWorld>>;
let prisma: PrismaClient;
let keys: KeyAuthenticator;
let quotaRedis: Redis;
let yoga: ReturnType<typeof createGraphQLYoga>;
let admin: string;
let orgId: string;
let ownerToken: string;
const queries: string[] = [];
const log = pino({ level: 'silent' });
const RATE_LIMITS = { defaultRpm: 600, defaultTpm: 1_000_000, maxRpm: 6_000, maxTpm: 10_000_000 };

beforeAll(async () => {
  world = await createGraphQLWorld();
  // Our own client, logging every SQL statement it sends.
  const logging = new PrismaClient({ adapter: new PrismaPg({ connectionString: world.db.url, max: 2 }), log: [{ emit: 'event', level: 'query' }] });
  logging.$on('query', (e) => queries.push(e.query));
  prisma = logging as unknown as PrismaClient;
  const a = await world.tenant('Acme');
  orgId = a.org.id;
  ownerToken = a.ownerToken;
  admin = world.adminToken;
  for (let i = 0; i < 30; i++) {
    const org = await world.prisma.organization.create({ data: { name: `Org ${i}`, slug: `org-${i}-${orgId}` } });
    await world.prisma.billingAccount.create({ data: { organizationId: org.id, balanceMicros: BigInt(i) } });
    await world.prisma.node.create({ data: { provider: 'STATIC', clusterName: `qc-${i}-${orgId}`, modelId: world.model.id, status: 'READY' } });
    const u = await world.user(`m${i}`);
    await world.prisma.membership.create({ data: { userId: u.id, organizationId: orgId } });
    await world.key(orgId);
  }
  keys = new KeyAuthenticator({ prisma, bus: new TopicBus({ redis: new Redis(world.redis.url, { lazyConnect: true }), prefix: world.redis.prefix, log }), log, platformLimits: RATE_LIMITS });
  const services = {
    prisma, redis: null as never, bus: null as never, events: null as never, nodeQueue: null as never, usageEventsPerSecond: 4, rateLimits: RATE_LIMITS,
    live: new LiveAuthorization({ prisma, log }), nodeSnapshots: new NodeSnapshots(prisma),
    invitationValidDays: 7, invitationEvents: createGraphQLMetrics(new Registry()).invitations,
    platformDefaults: { signupPolicy: 'OPEN', allowedEmailDomains: [], newOrganizationCreditMicros: 0n, operatorContact: null },
    nodeLaunch: { nodeSecrets: nodeSecretBoxOf({ NODE_ENV: 'test' }), urlPolicy: { allowLinkLocal: false } },
  } satisfies GraphQLServices;
  const metrics = createGraphQLMetrics(new Registry());
  quotaRedis = new Redis(world.redis.url);
  yoga = createGraphQLYoga({
    services, keys, sessionSecret: SECRET, log, metrics,
    exposure: { maxBodyBytes: 1_048_576, maxWsMessageBytes: 65_536, introspection: false, graphiql: false, corsOrigins: [] },
    budget: new CostBudget({ redis: quotaRedis, prefix: `${world.redis.prefix}gql:`, pointsPerMinute: 100_000, log }),
    subscriptionLimits: new SubscriptionLimits({ redis: quotaRedis, prefix: `${world.redis.prefix}gql:`, maxPerViewer: 10, maxPerOrganization: 10, log, onRefused: () => undefined }),
    limits: { maxDepth: 10, maxAliases: 15, maxDirectives: 10, maxTokens: 1000, maxCost: 20000, maxBatch: 10, allowArbitraryOperations: true },
    persisted: { store: new Map() },
  });
});
afterAll(async () => {
  await keys.stop();
  quotaRedis.disconnect();
  await prisma.$disconnect();
  await world.close();
});

/** Runs an operation in-process and returns how many SQL statements it took. */
async function countQueries(token: string, query: string, variables: Record<string, unknown>): Promise<number> {
  queries.length = 0;
  const res = await yoga.fetch('http://localhost/graphql', {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }),
  }, { requestId: 'count', log });
  const body = (await res.json()) as { errors?: unknown };
  expect(body.errors).toBeUndefined();
  return queries.filter((q) => !/^(BEGIN|COMMIT)/i.test(q)).length;
}

it('the admin overview (organizations with billing, nodes with models) does not grow with the page size', async () => {
  const q = `query($n: Int) {
    organizations(first: $n) { edges { node { id name billing { balanceMicros frozen } } } }
    nodes(first: $n) { edges { node { id status model { name readyNodes } } } }
  }`;
  const small = await countQueries(admin, q, { n: 2 });
  const large = await countQueries(admin, q, { n: 30 });
  expect(large).toBe(small);
  expect(small).toBeLessThanOrEqual(8);
});

it("an organization's members and keys page does not grow with the page size", async () => {
  const q = `query($id: ID, $n: Int) { organization(id: $id) {
    members { role user { email } }
    apiKeys(first: $n) { edges { node { id name createdBy { email } } } }
  } }`;
  const small = await countQueries(ownerToken, q, { id: orgId, n: 2 });
  const large = await countQueries(ownerToken, q, { id: orgId, n: 30 });
  expect(large).toBe(small);
});

it('the audit log naming the person behind each entry does not grow with the page size', async () => {
  const members = await world.prisma.membership.findMany({ where: { organizationId: orgId }, select: { userId: true } });
  await world.prisma.auditLog.createMany({ data: members.map((m) => ({ organizationId: orgId, actorType: 'USER' as const, actorId: m.userId, action: 'test.count' })) });
  const q = 'query($org: ID, $n: Int) { auditLog(first: $n, organizationId: $org, action: "test.count") { edges { node { action actor { email name } } } } }';
  const small = await countQueries(ownerToken, q, { org: orgId, n: 2 });
  const large = await countQueries(ownerToken, q, { org: orgId, n: 30 });
  expect(large).toBe(small);
});
