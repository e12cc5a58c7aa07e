import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Viewer } from '@cic/core/auth/viewer';
import { SubscriptionLimits } from '../../src/graphql/subscription-limits.ts';
import { createGraphQLWorld, eventually } from './graphql-fixture.ts';
import { collect, sseClient, wsClient, type Received } from './live-clients.ts';

// Open subscriptions are capped per socket, per key/user and per organization, across API instances
// (docs/graphql.md#subscriptions), and refused with SUBSCRIPTION_LIMIT.

let world: Awaited<ReturnType<typeof createGraphQLWorld>>;
let a: Awaited<ReturnType<typeof world.tenant>>;
const cleanups: (() => unknown)[] = [];

beforeAll(async () => {
  world = await createGraphQLWorld();
  a = await world.tenant('Acme');
});
afterAll(async () => {
  for (const c of cleanups) await c();
  await world.close();
});

const USAGE = 'subscription($org: ID!) { usageUpdated(organizationId: $org) { requests } }';

/** A metric's value on one instance's /metrics (0 when absent). */
async function metric(url: string, line: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found ? Number(found.slice(line.length + 1)) : 0;
}
const active = (url: string) => metric(url, 'cic_graphql_subscriptions_active');
const refused = (url: string, limit: string) => metric(url, `cic_graphql_subscriptions_refused_total{limit="${limit}"}`);
const limitErrors = (subs: Received<unknown>[]) => subs.filter((s) => JSON.stringify(s.errors).includes('SUBSCRIPTION_LIMIT'));

describe('per socket', () => {
  it('accepts 25 subscriptions on one graphql-ws socket by default and refuses the 26th, which a freed slot lets in', async () => {
    const api = await world.startApi();
    const { client } = wsClient(api.url, a.ownerToken);
    cleanups.push(() => client.dispose());
    const subs = Array.from({ length: 26 }, () => collect(client, USAGE, { org: a.org.id }));
    await eventually(async () => (await active(api.url)) === 25 && limitErrors(subs).length === 1);
    expect(JSON.stringify(limitErrors(subs)[0]!.errors)).toMatch(/at most 25 per socket/);
    expect(await refused(api.url, 'socket')).toBe(1);
    // The socket stays open for the others; ending one frees its slot.
    subs.find((s) => s.errors.length === 0)!.stop();
    await eventually(async () => (await active(api.url)) === 24);
    const again = collect(client, USAGE, { org: a.org.id });
    await eventually(async () => (await active(api.url)) === 25);
    expect(again.errors).toEqual([]);
  });
});

describe('per key or user, and per organization, across instances', () => {
  it('counts graphql-ws and SSE subscriptions of one user on two instances together, and frees them when the socket closes', async () => {
    const env = { GRAPHQL_MAX_SUBSCRIPTIONS_PER_VIEWER: '3' };
    const [apiA, apiB] = [await world.startApi(env), await world.startApi(env)];
    const user = await world.user('subscriber');
    await world.prisma.membership.create({ data: { userId: user.id, organizationId: a.org.id, role: 'MEMBER' } });
    const token = await world.token(user.id);
    const onA = wsClient(apiA.url, token).client;
    const onB = sseClient(apiB.url, token);
    const alsoB = wsClient(apiB.url, token).client;
    cleanups.push(() => onA.dispose(), () => onB.dispose(), () => alsoB.dispose());
    collect(onA, USAGE, { org: a.org.id });
    collect(onA, USAGE, { org: a.org.id });
    collect(onB, USAGE, { org: a.org.id });
    await eventually(async () => (await active(apiA.url)) === 2 && (await active(apiB.url)) === 1);
    const fourth = collect(alsoB, USAGE, { org: a.org.id });
    await eventually(() => fourth.errors.length > 0);
    expect(JSON.stringify(fourth.errors)).toMatch(/SUBSCRIPTION_LIMIT.*at most 3 per API key or user|at most 3 per API key or user.*SUBSCRIPTION_LIMIT/);
    expect(await refused(apiB.url, 'viewer')).toBe(1);
    // Closing A's socket ends its two subscriptions and frees their slots at once.
    await onA.dispose();
    await eventually(async () => (await active(apiA.url)) === 0);
    const fifth = collect(alsoB, USAGE, { org: a.org.id });
    await eventually(async () => (await active(apiB.url)) === 2);
    expect(fifth.errors).toEqual([]);
  });

  it('counts all keys and users of an organization together', async () => {
    const api = await world.startApi({ GRAPHQL_MAX_SUBSCRIPTIONS_PER_ORGANIZATION: '2' });
    // Organizations of their own: the other tests' subscriptions count against Acme.
    const [c, other] = [await world.tenant('Counted'), await world.tenant('Other')];
    const clients = [c.apiKey.secret, c.ownerToken, c.memberToken, other.ownerToken].map((auth) => wsClient(api.url, auth).client);
    cleanups.push(...clients.map((client) => () => client.dispose()));
    collect(clients[0]!, USAGE, { org: c.org.id });
    collect(clients[1]!, USAGE, { org: c.org.id });
    await eventually(async () => (await active(api.url)) === 2);
    const third = collect(clients[2]!, USAGE, { org: c.org.id });
    await eventually(() => third.errors.length > 0);
    expect(JSON.stringify(third.errors)).toMatch(/at most 2 per organization/);
    expect(await refused(api.url, 'organization')).toBe(1);
    // Another organization has its own count.
    const elsewhere = collect(clients[3]!, USAGE, { org: other.org.id });
    await eventually(async () => (await active(api.url)) === 3);
    expect(elsewhere.errors).toEqual([]);
  });
});

describe('leases', () => {
  const viewer: Viewer = { kind: 'apiKey', keyId: 'key_lease', prefix: 'cic_x', organizationId: 'org_lease', selectedOrganizationId: 'org_lease' };
  const log = pino({ level: 'silent' });

  it("frees a crashed instance's slots once its leases expire, while a live instance keeps its own", async () => {
    const redis = new Redis(world.redis.url);
    cleanups.push(() => redis.disconnect());
    // Connected: an acquire on a connection that is not ready fails open.
    await redis.ping();
    const options = { redis, prefix: `${world.redis.prefix}gql-lease:`, maxPerViewer: 2, maxPerOrganization: 10, log, onRefused: () => undefined, leaseTtlMs: 1_000 };
    // "Crashed": took both slots, never refreshes them and never releases them.
    const crashed = new SubscriptionLimits(options);
    await crashed.acquire(viewer);
    await crashed.acquire(viewer);
    const survivor = new SubscriptionLimits(options);
    survivor.start();
    cleanups.push(() => survivor.stop());
    await expect(survivor.acquire(viewer)).rejects.toMatchObject({ code: 'SUBSCRIPTION_LIMIT' });
    const first = await eventually(() => survivor.acquire(viewer).catch(() => null));
    await survivor.acquire(viewer);
    // The survivor refreshes its leases: well past their TTL they still hold both slots.
    await new Promise((r) => setTimeout(r, 2_500));
    await expect(new SubscriptionLimits(options).acquire(viewer)).rejects.toMatchObject({ code: 'SUBSCRIPTION_LIMIT' });
    first();
    first();
    await eventually(() => new SubscriptionLimits(options).acquire(viewer).catch(() => null));
  });
});
