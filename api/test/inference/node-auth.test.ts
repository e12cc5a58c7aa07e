import { randomBytes, randomUUID } from 'node:crypto';
import OpenAI from 'openai';
import { createNodeSecretBox } from '@cic/core/nodes/node-secret';
import type { Simulator } from '@cic/vllm-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInferenceWorld, postJson, startSim, type InferenceWorld } from './inference-fixture.ts';

/* Nodes started with vLLM's --api-key: the proxy sends each node its own key (docs/security.md#nodes-every-hop-to-a-vllm-server-is-authenticated). */

const NODE_SECRET_KEY = `node-auth-test-${randomUUID()}`;
const box = createNodeSecretBox(NODE_SECRET_KEY);
let world: InferenceWorld;
let api: Awaited<ReturnType<InferenceWorld['startApi']>>;
let key: string;
const sims: Simulator[] = [];

beforeAll(async () => {
  world = await createInferenceWorld();
  key = (await world.createKey()).secret;
  api = await world.startApi({ env: { NODE_SECRET_KEY } });
});
afterAll(async () => {
  await world?.close();
  await Promise.all(sims.map((s) => s.close()));
});

/** The simulator's own model, served by one READY node whose stored key is `sealed`. */
async function nodeFor(sim: Simulator, sealed: string | null) {
  const model = sim.options.model;
  const m = await world.prisma.servedModel.findUnique({ where: { name: model } }) ?? await world.addModel(model);
  const node = await world.prisma.node.create({
    data: { provider: 'STATIC', clusterName: `auth-${randomBytes(4).toString('hex')}`, modelId: m.id, endpointUrl: sim.url, status: 'READY', apiKeyCiphertext: sealed },
  });
  await world.eventually(async () => api.inference.nodes.nodesFor(model).length > 0);
  return { model, node };
}

/** A simulator of a model of its own that requires `apiKey`. */
const keyedSim = async (apiKey: string) => {
  const sim = await startSim({ apiKey, model: `auth/${randomBytes(3).toString('hex')}` });
  sims.push(sim);
  return sim;
};

describe('the proxy authenticates to nodes', () => {
  it("sends the node's own key: a simulator started with --api-key answers through CIC", async () => {
    const nodeKey = `cicn_${randomBytes(16).toString('hex')}`;
    const sim = await keyedSim(nodeKey);
    const { model } = await nodeFor(sim, box.seal(nodeKey));
    expect((await fetch(`${sim.url}/v1/models`)).status).toBe(401); // the node is closed to callers without it
    const client = new OpenAI({ apiKey: key, baseURL: api.baseURL, maxRetries: 0 });
    const answer = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hello' }], max_tokens: 3 });
    expect(answer.choices[0]!.message.content).toBeTruthy();
    const stream = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hello' }], max_tokens: 3, stream: true });
    let chunks = 0;
    for await (const chunk of stream) chunks += chunk.choices.length;
    expect(chunks).toBeGreaterThan(0);
    expect(sim.stats.completed).toBe(2);
  });

  it('a node that refuses the key is a bad gateway for the client, never a 401 (the client\'s own key is fine)', async () => {
    for (const sealed of [box.seal('cicn_a_wrong_key'), null]) {
      const sim = await keyedSim('cicn_the_right_key');
      const { model } = await nodeFor(sim, sealed);
      const res = await postJson(`${api.baseURL}/chat/completions`, { model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 }, key);
      expect(res.status).toBe(502);
      expect(await res.json()).toMatchObject({ error: { type: 'server_error', code: 'upstream_error' } });
      expect(sim.stats.requests).toBe(0);
    }
    expect(await api.inference.metrics.upstreamErrors.get()).toMatchObject({ values: expect.arrayContaining([expect.objectContaining({ labels: expect.objectContaining({ reason: 'status_401' }) })]) });
  });

  it('a key sealed under another NODE_SECRET_KEY keeps the node out of routing', async () => {
    const sim = await keyedSim('cicn_other');
    const model = sim.options.model;
    const m = await world.addModel(model);
    await world.prisma.node.create({
      data: { provider: 'STATIC', clusterName: `auth-${randomBytes(4).toString('hex')}`, modelId: m.id, endpointUrl: sim.url, status: 'READY', apiKeyCiphertext: createNodeSecretBox('x'.repeat(40)).seal('cicn_other') },
    });
    await api.inference.nodes.refresh();
    expect(api.inference.nodes.nodesFor(model)).toEqual([]);
    const res = await postJson(`${api.baseURL}/chat/completions`, { model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 }, key);
    expect(res.status).toBe(503);
    await res.body?.cancel();
  });
});
