import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transitionNode } from '@cic/core/nodes/node-state-machine';
import type { Simulator } from '@cic/vllm-sim';
import { createInferenceWorld, type InferenceWorld, postJson, startSim } from './inference-fixture.ts';

/*
 * Issue 13, item 9: which node a request goes to. The least loaded node; on a 5xx or 429 another node,
 * at most INFERENCE_MAX_ATTEMPTS nodes in all; and a node that leaves READY gets no more requests as soon
 * as nodeStatusChanged arrives, with the registry's periodic re-read out of the picture. Each scenario has
 * its own model and nodes; the sims' counters say which node saw what.
 */

type Api = Awaited<ReturnType<InferenceWorld['startApi']>>;
let world: InferenceWorld;
let key: string;
/** Tries at most 2 nodes per request. */
let api: Api;
/** Tries at most 3 nodes per request. */
let api3: Api;
const sims: Simulator[] = [];

async function scenario(model: string, simOptions: Parameters<typeof startSim>[0][]) {
  const m = await world.addModel(model);
  const list: Simulator[] = [];
  const nodes = [];
  for (const options of simOptions) {
    const sim = await startSim({ model, ...options });
    sims.push(sim);
    list.push(sim);
    nodes.push(await world.addNode(sim.url, { modelId: m.id }));
  }
  return { model, modelId: m.id, sims: list, nodes };
}

/** Makes a node look busy to the API: the jobs health checker's scraped queue length. */
async function scrapedWaiting(model: string, nodeId: string, waiting: number, on: Api[]) {
  await world.prisma.node.update({ where: { id: nodeId }, data: { waitingRequests: waiting } });
  for (const a of on) await world.eventually(async () => a.inference.nodes.nodesFor(model).find((n) => n.id === nodeId)?.waiting === waiting);
}

const chat = (model: string, extra: Record<string, unknown> = {}) => ({ model, messages: [{ role: 'user', content: 'Say something' }], max_tokens: 5, ...extra });

async function complete(on: Api, model: string) {
  const res = await postJson(`${on.baseURL}/chat/completions`, chat(model), key);
  await res.text();
  return res.status;
}

beforeAll(async () => {
  world = await createInferenceWorld();
  key = (await world.createKey()).secret;
  const env = { CIRCUIT_FAILURE_THRESHOLD: '100' };
  [api, api3] = await Promise.all([
    world.startApi({ env: { ...env, INFERENCE_MAX_ATTEMPTS: '2' } }),
    world.startApi({ env: { ...env, INFERENCE_MAX_ATTEMPTS: '3' } }),
  ]);
});

afterAll(async () => {
  await world?.close();
  await Promise.allSettled(sims.map((s) => s.close()));
});

describe('node choice', () => {
  it('sends the next requests to the node without a request in flight', async () => {
    const s = await scenario('route/least', [{ itlMs: 20, outputTokens: 500 }, { itlMs: 20, outputTokens: 500 }]);
    await world.eventually(async () => api.inference.nodes.nodesFor(s.model).length === 2);
    const held = new AbortController();
    const stream = await fetch(`${api.baseURL}/chat/completions`, {
      method: 'POST', signal: held.signal,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(chat(s.model, { stream: true, max_tokens: 500 })),
    });
    await stream.body!.getReader().read();
    const busy = s.sims.findIndex((sim) => sim.stats.running === 1);
    expect(busy).toBeGreaterThanOrEqual(0);
    const idle = 1 - busy;
    for (let i = 0; i < 4; i++) expect(await complete(api, s.model)).toBe(200);
    expect(s.sims[idle]!.stats.completed).toBe(4);
    expect(s.sims[busy]!.stats.requests).toBe(1);
    held.abort();
    await world.eventually(async () => s.sims[busy]!.stats.aborted === 1);
  });

  it('avoids a node whose scraped queue is longer', async () => {
    const s = await scenario('route/scraped', [{}, {}]);
    await scrapedWaiting(s.model, s.nodes[0]!.id, 3, [api]);
    for (let i = 0; i < 4; i++) expect(await complete(api, s.model)).toBe(200);
    expect(s.sims[0]!.stats.requests).toBe(0);
    expect(s.sims[1]!.stats.completed).toBe(4);
  });
});

describe('retries on another node', () => {
  it('retries a 429 from a busy node on another node', async () => {
    const s = await scenario('route/busy', [{ failureRate: 1, failureTypes: ['rate_limit'] }, {}]);
    // The healthy node looks busier, so the refusing one is tried first.
    await scrapedWaiting(s.model, s.nodes[1]!.id, 5, [api]);
    expect(await complete(api, s.model)).toBe(200);
    expect(s.sims[0]!.stats.failed).toBe(1);
    expect(s.sims[1]!.stats.completed).toBe(1);
  });

  it('tries at most INFERENCE_MAX_ATTEMPTS nodes on 5xx answers', async () => {
    const failing = { failureRate: 1, failureTypes: ['server_error' as const] };
    const s = await scenario('route/bounded', [failing, failing, {}]);
    // The healthy node looks busiest, so it is tried last.
    await scrapedWaiting(s.model, s.nodes[2]!.id, 5, [api, api3]);
    const failed = () => s.sims[0]!.stats.failed + s.sims[1]!.stats.failed;

    expect(await complete(api, s.model)).toBe(502);
    expect(failed()).toBe(2);
    expect(s.sims[2]!.stats.requests).toBe(0);

    expect(await complete(api3, s.model)).toBe(200);
    expect(failed()).toBe(4);
    expect(s.sims[0]!.stats.failed).toBe(2);
    expect(s.sims[2]!.stats.completed).toBe(1);
  });
});

describe('nodeStatusChanged, without the periodic re-read', () => {
  it('routes to a node once it turns READY and stops at once when it leaves READY', async () => {
    // An hour between re-reads: only the bus can tell this instance about the nodes.
    const still = await world.startApi({ env: { INFERENCE_NODE_REFRESH_MS: '3600000' } });
    const model = 'route/status';
    const m = await world.addModel(model);
    const pair = [await startSim({ model }), await startSim({ model })];
    sims.push(...pair);
    // Created STARTING: the state machine's move to READY is the only news of them this instance gets.
    const nodes = await Promise.all(pair.map((sim) => world.prisma.node.create({
      data: { provider: 'STATIC', clusterName: `sim-${randomBytes(4).toString('hex')}`, modelId: m.id, endpointUrl: sim.url, status: 'STARTING' },
    })));
    for (const node of nodes) await transitionNode({ prisma: world.prisma, bus: still.bus, nodeId: node.id, to: 'READY' });
    await world.eventually(async () => still.inference.nodes.nodesFor(model).length === 2, 2_000);
    for (let i = 0; i < 4; i++) expect(await complete(still, model)).toBe(200);
    expect(pair[0]!.stats.completed + pair[1]!.stats.completed).toBe(4);

    await transitionNode({ prisma: world.prisma, bus: still.bus, nodeId: nodes[0]!.id, to: 'UNHEALTHY', reason: 'test' });
    await world.eventually(async () => still.inference.nodes.nodesFor(model).every((n) => n.id !== nodes[0]!.id), 2_000);
    const before = pair[0]!.stats.requests;
    for (let i = 0; i < 4; i++) expect(await complete(still, model)).toBe(200);
    expect(pair[0]!.stats.requests).toBe(before);

    await transitionNode({ prisma: world.prisma, bus: still.bus, nodeId: nodes[1]!.id, to: 'DRAINING', reason: 'test' });
    await world.eventually(async () => still.inference.nodes.nodesFor(model).length === 0, 2_000);
    expect(await complete(still, model)).toBe(503);
  });
});
