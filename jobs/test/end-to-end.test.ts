// The whole path on one machine: GraphQL launchNode → node.launch on the workers → a local simulator →
// READY live on a graphql-ws subscription → the inference proxy routes to it → the rollup charges it.
import { transitionNode } from '@cic/core/nodes/node-state-machine';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGraphQLWorld, gql } from '../../api/test/graphql/graphql-fixture.ts';
import { collect, wsClient } from '../../api/test/graphql/live-clients.ts';
import { handleUsageRollup } from '../src/handlers/rollup-usage.ts';
import { NODE_SECRET_KEY, nodeApiKeyOf, startTestWorkers, testConfig, waitForStatus } from './harness.ts';

let world: Awaited<ReturnType<typeof createGraphQLWorld>>;
let workers: ReturnType<typeof startTestWorkers>;
let firstNodeId: string;
let inferenceKey: string;

beforeAll(async () => {
  world = await createGraphQLWorld();
  workers = startTestWorkers({ ...testConfig(world.db.url, {}, world.redis.url), BULLMQ_PREFIX: world.bullPrefix, REDIS_CHANNEL_PREFIX: world.redis.prefix });
  await workers.start();
});
afterAll(async () => {
  await workers?.stop();
  await world?.close();
});

describe('launch to first request', () => {
  it('launchNode → events on graphql-ws → READY → the proxy routes to the node → usage is charged', async () => {
    // The API opens the node keys the workers sealed: both get the same NODE_SECRET_KEY.
    const api = await world.startApi({ USAGE_WRITER_ENABLED: 'true', NODE_SECRET_KEY });
    const ws = wsClient(api.url, world.adminToken);
    const statuses = collect<{ nodeStatusChanged: { id: string; status: string } }>(ws.client, 'subscription { nodeStatusChanged { id status } }');
    // The fixture's placeholder node (a bogus URL) leaves through the state machine; its first event also
    // proves the subscription is live before the launch starts publishing.
    const probe = world.node.id;
    await transitionNode({ prisma: world.prisma, bus: workers.bus, nodeId: probe, to: 'DRAINING', reason: 'e2e: not a real server' });
    while (!statuses.events.some((e) => e.nodeStatusChanged.id === probe)) {
      await workers.bus.publish('nodeStatusChanged', { nodeId: probe, modelName: world.model.name, status: 'DRAINING', previousStatus: 'READY', reason: 'probe', at: new Date().toISOString() });
      await new Promise((r) => setTimeout(r, 50));
    }
    await transitionNode({ prisma: world.prisma, bus: workers.bus, nodeId: probe, to: 'TERMINATING', reason: 'e2e' });
    const launched = await gql<{ launchNode: { id: string; status: string } }>(api.url, 'mutation($i: LaunchNodeInput!) { launchNode(input: $i) { id status } }', {
      i: { model: world.model.name, provider: 'LOCAL', config: { vllmArgs: ['--enable-control-routes'] } },
    }, { auth: world.adminToken });
    expect(launched.errors).toBeUndefined();
    const nodeId = launched.data!.launchNode.id;
    firstNodeId = nodeId;
    const node = await waitForStatus(world.prisma, nodeId, ['READY', 'FAILED']);
    expect(node.status).toBe('READY');
    while (statuses.events.filter((e) => e.nodeStatusChanged.id === nodeId).length < 3) await new Promise((r) => setTimeout(r, 20));
    expect(statuses.events.filter((e) => e.nodeStatusChanged.id === nodeId).map((e) => e.nodeStatusChanged.status)).toEqual(['PROVISIONING', 'STARTING', 'READY']);
    statuses.stop();
    await ws.client.dispose();

    const tenant = await world.tenant('E2e');
    const key = await world.key(tenant.org.id, ['inference']);
    inferenceKey = key.secret;
    let res: Response;
    for (;;) { // the proxy's node registry refreshes on nodeStatusChanged and every second
      res = await fetch(`${api.url}/v1/chat/completions`, {
        method: 'POST', headers: { authorization: `Bearer ${key.secret}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: world.model.name, messages: [{ role: 'user', content: 'hello node' }], max_tokens: 8 }),
      });
      if (res.status !== 503) break;
      await res.body?.cancel();
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(res.status).toBe(200);
    const body = (await res.json()) as { choices: { message: { content: string } }[]; usage: { prompt_tokens: number; completion_tokens: number } };
    expect(body.choices[0]!.message.content.length).toBeGreaterThan(0);
    // The node itself requires its key (the proxy sent it; a caller without it is refused).
    expect((await fetch(`${node.endpointUrl}/v1/models`)).status).toBe(401);

    let record;
    while (!(record = await world.prisma.usageRecord.findFirst({ where: { apiKeyId: key.id } }))) await new Promise((r) => setTimeout(r, 50));
    expect(record.nodeId).toBe(nodeId);
    await handleUsageRollup(workers.handlerContext(AbortSignal.timeout(30_000)));
    const hourly = await world.prisma.usageHourly.findFirstOrThrow({ where: { apiKeyId: key.id } });
    expect(hourly.promptTokens).toBe(BigInt(record.promptTokens));
    const charged = await world.prisma.ledgerEntry.aggregate({ where: { organizationId: tenant.org.id, type: 'USAGE' }, _sum: { amountMicros: true } });
    expect(charged._sum.amountMicros).toBe(-hourly.costMicros);
    await api.stop();
  });

  it('a node that stops answering turns UNHEALTHY and traffic moves to the healthy one; it comes back READY', async () => {
    const api = await world.startApi({ NODE_SECRET_KEY });
    const launched = await gql<{ launchNode: { id: string } }>(api.url, 'mutation($i: LaunchNodeInput!) { launchNode(input: $i) { id } }', {
      i: { model: world.model.name, provider: 'LOCAL', config: { vllmArgs: ['--enable-control-routes'] } },
    }, { auth: world.adminToken });
    const second = await waitForStatus(world.prisma, launched.data!.launchNode.id, ['READY', 'FAILED']);
    const first = await world.prisma.node.findUniqueOrThrow({ where: { id: firstNodeId } });
    // The simulators' /_sim routes (enabled by the flag above) need each node's own key.
    const control = async (node: { id: string; endpointUrl: string | null }, path: string, method = 'POST') =>
      fetch(`${node.endpointUrl}/_sim/${path}`, { method, headers: { authorization: `Bearer ${await nodeApiKeyOf(world.prisma, node.id)}` } });
    const served = async (node: typeof second) => ((await (await control(node, 'stats', 'GET')).json()) as { requests: number }).requests;

    await control(first, 'kill');
    expect((await waitForStatus(world.prisma, first.id, ['UNHEALTHY'])).statusReason).toMatch(/failed health checks/);
    const before = await served(second);
    for (let i = 0; i < 5; i++) {
      let res: Response;
      do { // until the proxy's registry has dropped the UNHEALTHY node, a request may fail over or get 503
        res = await fetch(`${api.url}/v1/completions`, {
          method: 'POST', headers: { authorization: `Bearer ${inferenceKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({ model: world.model.name, prompt: 'hi', max_tokens: 2 }),
        });
        await res.text();
      } while (res.status !== 200);
    }
    expect(await served(second)).toBeGreaterThanOrEqual(before + 5);

    await control(first, 'revive');
    expect((await waitForStatus(world.prisma, first.id, ['READY'])).statusReason).toBe('health check passed again');
    await api.stop();
  });
});
