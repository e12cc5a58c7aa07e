import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '@cic/vllm-sim';
import { createInferenceWorld, type InferenceWorld, postJson, startSim } from './inference-fixture.ts';

/*
 * Every request holds a lease on its node from dispatch to the end of the answer. Whatever way it
 * ends (success, node error, retry, timeout, client gone), the node's in-flight count, which drives
 * node selection, must come back to 0. Each scenario has its own model and nodes.
 */

let world: InferenceWorld;
let key: string;
let api: Awaited<ReturnType<InferenceWorld['startApi']>>;
const sims: Simulator[] = [];

async function scenario(name: string, simOptions: Parameters<typeof startSim>[0][] = [{}]) {
  const m = await world.addModel(name);
  const list: Simulator[] = [];
  const nodes = [];
  for (const options of simOptions) {
    const sim = await startSim({ model: name, ...options });
    sims.push(sim);
    list.push(sim);
    nodes.push(await world.addNode(sim.url, { modelId: m.id }));
  }
  await world.eventually(async () => api.inference.nodes.nodesFor(name).length === list.length);
  return { model: name, sims: list, nodes };
}

/** In-flight requests on the model's nodes, as this API instance counts them. */
const inflight = (model: string) => api.inference.nodes.nodesFor(model).map((n) => n.inflight);
/** Waits until no request holds a node of `model` (fails the test when a lease leaked). */
const settled = (model: string) => world.eventually(async () => inflight(model).every((n) => n === 0));

const chat = (model: string, extra: Record<string, unknown> = {}) => ({ model, messages: [{ role: 'user', content: 'Say something' }], max_tokens: 10, ...extra });
const post = (model: string, extra: Record<string, unknown> = {}, signal?: AbortSignal) =>
  fetch(`${api.baseURL}/chat/completions`, {
    method: 'POST', signal,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(chat(model, extra)),
  });

beforeAll(async () => {
  world = await createInferenceWorld();
  key = (await world.createKey()).secret;
  api = await world.startApi({ env: { CIRCUIT_FAILURE_THRESHOLD: '100', INFERENCE_FIRST_BYTE_TIMEOUT_MS: '1500', INFERENCE_IDLE_TIMEOUT_MS: '500' } });
});

afterAll(async () => {
  await world?.close();
  await Promise.allSettled(sims.map((s) => s.close()));
});

describe('node in-flight counts', () => {
  it('counts a request while it streams and releases it when the answer ends', async () => {
    const s = await scenario('lease/ok', [{ itlMs: 20, outputTokens: 30 }]);
    const res = await post(s.model, { stream: true, max_tokens: 30 });
    const reader = res.body!.getReader();
    await reader.read();
    expect(inflight(s.model)).toEqual([1]);
    while (!(await reader.read()).done);
    await settled(s.model);
    const whole = await postJson(`${api.baseURL}/chat/completions`, chat(s.model), key);
    expect(whole.status).toBe(200);
    await whole.text();
    await settled(s.model);
  });

  it('releases the node after a node refusal (4xx), a node error (5xx) and a busy node (429)', async () => {
    for (const type of ['context_length', 'server_error', 'rate_limit'] as const) {
      const s = await scenario(`lease/${type}`, [{ failureRate: 1, failureTypes: [type] }]);
      const res = await post(s.model);
      expect(res.status).toBe({ context_length: 400, server_error: 502, rate_limit: 503 }[type]);
      await res.text();
      await settled(s.model);
    }
  });

  it('releases both nodes when a failed attempt is retried on another node', async () => {
    const s = await scenario('lease/retry', [{ failureRate: 1, failureTypes: ['server_error'] }, {}]);
    // The healthy node looks busier, so the failing one is tried first.
    await world.prisma.node.update({ where: { id: s.nodes[1]!.id }, data: { waitingRequests: 5 } });
    await world.eventually(async () => api.inference.nodes.nodesFor(s.model).find((n) => n.id === s.nodes[1]!.id)?.waiting === 5);
    const res = await post(s.model);
    expect(res.status).toBe(200);
    await res.text();
    expect(s.sims[0]!.stats.requests).toBe(1);
    expect(s.sims[1]!.stats.completed).toBe(1);
    await settled(s.model);
  });

  it('releases the node after a stream cut, an idle stream and a first-byte timeout', async () => {
    const cut = await scenario('lease/cut', [{ failureRate: 1, failureTypes: ['stream_cut'], outputTokens: 20 }]);
    expect(await (await post(cut.model, { stream: true })).text()).toContain('upstream_stream_cut');
    await settled(cut.model);
    const slow = await scenario('lease/slow', [{ ttftMs: 5_000 }]);
    expect(await (await post(slow.model, { stream: true })).text()).toContain('upstream_timeout');
    await settled(slow.model);
    const res = await post(slow.model);
    expect(res.status).toBe(504);
    await res.text();
    await settled(slow.model);
  });

  it('releases the node when the client leaves mid-stream or before the answer began', async () => {
    const s = await scenario('lease/abort', [{ itlMs: 20, outputTokens: 500 }]);
    const midStream = new AbortController();
    const res = await post(s.model, { stream: true, max_tokens: 500 }, midStream.signal);
    await res.body!.getReader().read();
    midStream.abort();
    await world.eventually(async () => s.sims[0]!.stats.aborted === 1);
    await settled(s.model);

    const late = await scenario('lease/abort-early', [{ ttftMs: 5_000 }]);
    const early = new AbortController();
    const pending = post(late.model, {}, early.signal).catch((e: unknown) => e);
    await world.eventually(async () => inflight(late.model)[0] === 1);
    early.abort();
    expect(await pending).toBeInstanceOf(Error);
    await world.eventually(async () => late.sims[0]!.stats.aborted === 1);
    await settled(late.model);
  });

  it('releases the node when the limiter refuses a request dispatched ahead of its verdict', async () => {
    const slow = await scenario('lease/refused', [{ ttftMs: 300 }]);
    const fast = await scenario('lease/refused-fast');
    // A kept-alive connection to the slow node, so the early dispatch reaches it before the verdict.
    expect(await (await post(slow.model)).text()).toContain('chat.completion');
    // Far from the limit means more than 8 requests left (the rate limiter's likelyAllows), for a second.
    const limited = await world.createKey({ rpmLimit: 20 });
    const send = (model: string) => postJson(`${api.baseURL}/chat/completions`, chat(model, { max_tokens: 1 }), limited.secret);
    expect((await send(fast.model)).status).toBe(200);
    // Another instance uses up the window meanwhile (written here as its script would, so no timing decides).
    await api.redis.set(`${world.redis.prefix}rl:{${limited.id}}:r`, '20', 'KEEPTTL');
    const refused = await send(slow.model);
    expect(refused.status).toBe(429);
    await refused.text();
    // The node saw the request (dispatched early) and its cancellation.
    await world.eventually(async () => slow.sims[0]!.stats.aborted === 1 && slow.sims[0]!.stats.requests === 2);
    await settled(slow.model);
  });
});
