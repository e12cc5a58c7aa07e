import { createClient as createWsClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { killSubscriber } from '../helpers/kill-subscriber.ts';
import { createGraphQLWorld, eventually, gql } from './graphql-fixture.ts';
import { collect, sseClient, wsClient } from './live-clients.ts';

let world: Awaited<ReturnType<typeof createGraphQLWorld>>;
let apiA: string;
let apiB: string;
let a: Awaited<ReturnType<typeof world.tenant>>;
let b: Awaited<ReturnType<typeof world.tenant>>;
const cleanups: (() => unknown)[] = [];

beforeAll(async () => {
  world = await createGraphQLWorld();
  a = await world.tenant('Acme');
  b = await world.tenant('Bolt');
  apiA = (await world.startApi()).url;
  apiB = (await world.startApi()).url;
});
afterAll(async () => {
  for (const c of cleanups) await c();
  await world.close();
});

type NodeStatusEvent = { nodeStatusChanged: { id: string; status: string; model: { name: string } } };
const NODE_STATUS = 'subscription($nodeId: ID) { nodeStatusChanged(nodeId: $nodeId) { id status model { name } } }';

/** Publishes a harmless READY probe until the subscriber has it: the subscription is then live. */
async function untilLive(nodeId: string, events: NodeStatusEvent[]) {
  await eventually(async () => {
    await world.bus.publish('nodeStatusChanged', { nodeId, modelName: world.model.name, status: 'READY', previousStatus: 'STARTING', reason: 'probe', at: new Date().toISOString() });
    return events.some((e) => e.nodeStatusChanged.status === 'READY');
  });
}

describe('node status across two instances', () => {
  it('a terminateNode mutation on A reaches a graphql-ws subscriber on B', async () => {
    const node = await world.prisma.node.create({ data: { provider: 'STATIC', clusterName: 'ws-a-to-b', modelId: world.model.id, status: 'READY' } });
    const { client } = wsClient(apiB, world.adminToken);
    cleanups.push(() => client.dispose());
    const sub = collect<NodeStatusEvent>(client, NODE_STATUS, { nodeId: node.id });
    await untilLive(node.id, sub.events);
    const r = await gql(apiA, 'mutation($id: ID!) { terminateNode(id: $id) { status } }', { id: node.id }, { auth: world.adminToken });
    expect(r.errors).toBeUndefined();
    const drained = await eventually(() => sub.events.find((e) => e.nodeStatusChanged.status === 'DRAINING'));
    expect(drained.nodeStatusChanged).toEqual({ id: node.id, status: 'DRAINING', model: { name: world.model.name } });
    expect(sub.errors).toEqual([]);
    sub.stop();
  });

  it("the jobs worker's plain publish reaches a graphql-sse subscriber (distinct connections mode)", async () => {
    const node = await world.prisma.node.create({ data: { provider: 'STATIC', clusterName: 'sse-sub', modelId: world.model.id, status: 'READY' } });
    const client = sseClient(apiB, world.adminToken);
    cleanups.push(() => client.dispose());
    const status = collect<NodeStatusEvent>(client, NODE_STATUS, { nodeId: node.id });
    await untilLive(node.id, status.events);
    const events = collect<{ nodeEvents: { message: string; kind: string } }>(client, 'subscription($id: ID!) { nodeEvents(nodeId: $id) { message kind } }', { id: node.id });
    await eventually(async () => {
      await world.bus.publish('nodeEvents', { id: 'nev_x', nodeId: node.id, kind: 'LOG', message: 'pulling weights', fromStatus: null, toStatus: null, createdAt: new Date().toISOString() }, node.id);
      return events.events.length > 0;
    });
    expect(events.events[0]).toEqual({ nodeEvents: { message: 'pulling weights', kind: 'LOG' } });
    status.stop();
    events.stop();
  });

  it('refuses non-admin subscribers (FORBIDDEN) and anonymous connections (4401)', async () => {
    const { client } = wsClient(apiB, a.ownerToken);
    cleanups.push(() => client.dispose());
    const sub = collect(client, NODE_STATUS);
    await eventually(() => sub.errors.length > 0 || sub.completed);
    expect(JSON.stringify(sub.errors)).toMatch(/FORBIDDEN|Not allowed/);
    expect(sub.events).toEqual([]);

    const sse = collect(sseClient(apiB, a.apiKey.secret), NODE_STATUS);
    await eventually(() => sse.errors.length > 0 || sse.completed);
    expect(sse.events).toEqual([]);

    const anon = wsClient(apiB);
    cleanups.push(() => anon.client.dispose());
    const refused = collect(anon.client, NODE_STATUS);
    await eventually(() => anon.closes.length > 0);
    expect(anon.closes[0]?.code).toBe(4401);
    expect(refused.events).toEqual([]);
  });
});

describe('usage ticker', () => {
  type Tick = { usageUpdated: { requests: number; promptTokens: number } };
  const USAGE = 'subscription($org: ID!) { usageUpdated(organizationId: $org) { requests promptTokens } }';

  it("coalesces a burst into a few ticks with the same totals, for the organization's members only", async () => {
    const { client } = wsClient(apiB, a.memberToken);
    cleanups.push(() => client.dispose());
    const sub = collect<Tick>(client, USAGE, { org: a.org.id });
    // Probes carry 0 requests: those published before the subscription was live are lost harmlessly.
    const tick = (requests: number) =>
      world.bus.publish('usageUpdated', { organizationId: a.org.id, requests, promptTokens: requests * 10, completionTokens: 0, at: new Date().toISOString() }, a.org.id);
    await eventually(async () => {
      await tick(0);
      return sub.events.length > 0;
    });
    const sent = 50;
    for (let i = 0; i < sent; i++) await tick(1);
    const sum = () => sub.events.reduce((n, e) => n + e.usageUpdated.requests, 0);
    await eventually(() => sum() >= sent);
    expect(sum()).toBe(sent);
    expect(sub.events.reduce((n, e) => n + e.usageUpdated.promptTokens, 0)).toBe(sent * 10);
    expect(sub.events.length).toBeLessThan(sent);

    const foreign = wsClient(apiB, b.ownerToken);
    cleanups.push(() => foreign.client.dispose());
    const refused = collect(foreign.client, USAGE, { org: a.org.id });
    await eventually(() => refused.errors.length > 0);
    expect(refused.events).toEqual([]);
    sub.stop();
  });

  it('revoking the key on A closes its WebSocket on B (4403)', async () => {
    const key = await world.key(a.org.id);
    const { client, closes } = wsClient(apiB, key.secret);
    cleanups.push(() => client.dispose());
    const sub = collect<Tick>(client, USAGE, { org: a.org.id });
    await eventually(async () => {
      await world.bus.publish('usageUpdated', { organizationId: a.org.id, requests: 1, promptTokens: 1, completionTokens: 0, at: new Date().toISOString() }, a.org.id);
      return sub.events.length > 0;
    });
    const r = await gql(apiA, 'mutation($id: ID!) { revokeApiKey(id: $id) { id } }', { id: key.id }, { auth: a.ownerToken });
    expect(r.errors).toBeUndefined();
    await eventually(() => closes.length > 0);
    expect(closes[0]).toEqual({ code: 4403, reason: 'API key revoked' });
  });

  it('revoking the key ends its idle graphql-sse stream too', async () => {
    const key = await world.key(a.org.id);
    const client = sseClient(apiB, key.secret);
    cleanups.push(() => client.dispose());
    const sub = collect<Tick>(client, USAGE, { org: a.org.id });
    await eventually(async () => {
      await world.bus.publish('usageUpdated', { organizationId: a.org.id, requests: 0, promptTokens: 0, completionTokens: 0, at: new Date().toISOString() }, a.org.id);
      return sub.events.length > 0;
    });
    await gql(apiA, 'mutation($id: ID!) { revokeApiKey(id: $id) { id } }', { id: key.id }, { auth: a.ownerToken });
    await eventually(() => sub.completed || sub.errors.length > 0);
    expect(JSON.stringify(sub.errors)).toMatch(/revoked/);
  });

  it('a key revoked while the pub/sub connection was down closes its WebSocket once the connection is back (4403)', async () => {
    const api = await world.startApi();
    const key = await world.key(a.org.id);
    const { client, closes } = wsClient(api.url, key.secret);
    cleanups.push(() => client.dispose());
    const sub = collect<Tick>(client, USAGE, { org: a.org.id });
    await eventually(async () => {
      await world.bus.publish('usageUpdated', { organizationId: a.org.id, requests: 0, promptTokens: 0, completionTokens: 0, at: new Date().toISOString() }, a.org.id);
      return sub.events.length > 0;
    });
    // Revoked without apiKeyChanged: the event a dropped connection would have lost.
    await world.prisma.apiKey.update({ where: { id: key.id }, data: { revokedAt: new Date() } });
    await killSubscriber(api.redis, api.bus);
    await eventually(() => closes.length > 0);
    expect(closes[0]).toEqual({ code: 4403, reason: 'API key revoked' });
  });

  it('a graceful stop ends open SSE streams instead of waiting out the grace period', async () => {
    const apiC = await world.startApi({ SHUTDOWN_GRACE_SECONDS: '60' });
    const sub = collect<Tick>(sseClient(apiC.url, a.apiKey.secret), USAGE, { org: a.org.id });
    await eventually(async () => {
      await world.bus.publish('usageUpdated', { organizationId: a.org.id, requests: 0, promptTokens: 0, completionTokens: 0, at: new Date().toISOString() }, a.org.id);
      return sub.events.length > 0;
    });
    // With the stream left open, stop() would wait 60 s and the test would time out.
    await apiC.stop();
    await eventually(() => sub.completed || sub.errors.length > 0);
    expect(JSON.stringify(sub.errors)).toMatch(/restarting/);
  });

  it('an expired session token closes the socket with 4419, which graphql-ws retries (not 4401, which it never does)', async () => {
    const { client, closes } = wsClient(apiB, await world.token(a.member.id, 1));
    cleanups.push(() => client.dispose());
    collect(client, USAGE, { org: a.org.id });
    await eventually(() => closes.length > 0, 5_000);
    expect(closes[0]).toEqual({ code: 4419, reason: 'Session token expired; reconnect with a fresh one' });
  });

  it('a client that fetches a fresh token on every connect stays subscribed past the token lifetime', async () => {
    const closes: number[] = [];
    const client = createWsClient({
      url: `${apiB.replace(/^http/, 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      lazy: true,
      retryAttempts: Infinity,
      retryWait: async () => {},
      // 3 s tokens: the API closes a second before expiry, so each connection lives about 2 s.
      connectionParams: async () => ({ authorization: `Bearer ${await world.token(a.member.id, 3)}` }),
      on: { closed: (e) => closes.push((e as { code: number }).code) },
    });
    cleanups.push(() => client.dispose());
    const sub = collect<Tick>(client, USAGE, { org: a.org.id });
    await eventually(() => closes.includes(4419), 10_000);
    const before = sub.events.length;
    await eventually(async () => {
      await world.bus.publish('usageUpdated', { organizationId: a.org.id, requests: 1, promptTokens: 1, completionTokens: 0, at: new Date().toISOString() }, a.org.id);
      return sub.events.length > before;
    });
    expect(sub.errors).toEqual([]);
  });
});
