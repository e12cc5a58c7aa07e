import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '@cic/vllm-sim';
import { createInferenceWorld, type InferenceWorld, postJson, startSim } from './inference-fixture.ts';

/* Each scenario has its own model, so its nodes never serve another scenario's requests. */

let world: InferenceWorld;
let key: string;
let api: Awaited<ReturnType<InferenceWorld['startApi']>>;
const sims: Simulator[] = [];

async function scenario(name: string, simOptions: Parameters<typeof startSim>[0] = {}, count = 1) {
  const m = await world.addModel(name);
  const list: Simulator[] = [];
  for (let i = 0; i < count; i++) {
    const sim = await startSim({ model: name, ...simOptions });
    sims.push(sim);
    list.push(sim);
  }
  const nodes = [];
  for (const sim of list) nodes.push(await world.addNode(sim.url, { modelId: m.id }));
  return { model: name, sims: list, nodes, modelId: m.id };
}

const chat = (model: string, extra: Record<string, unknown> = {}) => ({ model, messages: [{ role: 'user', content: 'Say something long enough' }], max_tokens: 20, ...extra });

/** Waits until the API's registry routes `model` (it refreshes every 200 ms in tests). */
const routable = (model: string) => world.eventually(async () => api.inference.nodes.nodesFor(model).length > 0);

beforeAll(async () => {
  world = await createInferenceWorld();
  key = (await world.createKey()).secret;
  api = await world.startApi({ env: { CIRCUIT_FAILURE_THRESHOLD: '3', CIRCUIT_COOLDOWN_MS: '300', INFERENCE_FIRST_BYTE_TIMEOUT_MS: '300', INFERENCE_IDLE_TIMEOUT_MS: '300' } });
});

afterAll(async () => {
  await world?.close();
  await Promise.allSettled(sims.map((s) => s.close()));
});

describe('node failures', () => {
  it('serves every request from the live node when another node is down', async () => {
    const s = await scenario('fail/down', {}, 2);
    await s.sims[0]!.close();
    await routable(s.model);
    for (let i = 0; i < 6; i++) {
      const res = await postJson(`${api.baseURL}/chat/completions`, chat(s.model), key);
      expect(res.status).toBe(200);
      await res.text();
    }
    expect(s.sims[1]!.stats.completed).toBe(6);
    const rows = await world.eventually(async () => {
      const r = await world.prisma.usageRecord.findMany({ where: { modelName: s.model } });
      return r.length === 6 ? r : null;
    });
    expect(new Set(rows.map((r) => r.nodeId))).toEqual(new Set([s.nodes[1]!.id]));
  });

  it('ends a stream cut mid-way with an error event and a PARTIAL usage record', async () => {
    const s = await scenario('fail/cut', { failureRate: 1, failureTypes: ['stream_cut'], outputTokens: 40 });
    await routable(s.model);
    const res = await postJson(`${api.baseURL}/chat/completions`, chat(s.model, { max_tokens: 40, stream: true }), key);
    expect(res.status).toBe(200);
    const body = await res.text();
    const events = body.split('\n\n').filter(Boolean);
    const last = JSON.parse(events.at(-1)!.slice('data: '.length)) as { error: { code: string; type: string } };
    expect(last.error).toMatchObject({ code: 'upstream_stream_cut', type: 'server_error' });
    expect(body).not.toContain('[DONE]');
    expect(s.sims[0]!.stats.cut).toBe(1);
    const record = await world.eventually(() => world.prisma.usageRecord.findFirst({ where: { modelName: s.model } }));
    expect(record).toMatchObject({ outcome: 'PARTIAL', estimated: true, errorCode: 'upstream_stream_cut', status: 200 });
    // Metered = what reached the client: one token per content chunk before the cut (a fast cut can
    // reset the connection before any chunk arrives, and then nothing is counted).
    const contentChunks = events.slice(0, -1).filter((e) => {
      const chunk = JSON.parse(e.slice('data: '.length)) as { choices: { delta: { content?: string } }[] };
      return Boolean(chunk.choices[0]?.delta.content);
    });
    expect(record.completionTokens).toBe(contentChunks.length);
  });

  it('opens the circuit after consecutive failures, then closes it after a good probe', async () => {
    const s = await scenario('fail/circuit', { failureRate: 1, failureTypes: ['server_error'] });
    await routable(s.model);
    const nodeId = s.nodes[0]!.id;
    for (let i = 0; i < 3; i++) {
      const res = await postJson(`${api.baseURL}/chat/completions`, chat(s.model), key);
      expect(res.status).toBe(502);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('upstream_error');
    }
    const state = async () => (await api.inference.metrics.circuitState.get()).values.find((v) => v.labels.node === nodeId)?.value;
    expect(await state()).toBe(2);
    const seen = s.sims[0]!.stats.requests;
    const refused = await postJson(`${api.baseURL}/chat/completions`, chat(s.model), key);
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('no_available_node');
    expect(s.sims[0]!.stats.requests).toBe(seen);
    s.sims[0]!.setFailure({ rate: 0 });
    const ok = await world.eventually(async () => {
      const r = await postJson(`${api.baseURL}/chat/completions`, chat(s.model), key);
      await r.text();
      return r.status === 200;
    });
    expect(ok).toBe(true);
    expect(await state()).toBe(0);
  });

  it('aborts the upstream request as soon as the client goes away', async () => {
    const s = await scenario('fail/abort', { itlMs: 20, outputTokens: 500 });
    await routable(s.model);
    const controller = new AbortController();
    const res = await fetch(`${api.baseURL}/chat/completions`, {
      method: 'POST', signal: controller.signal,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(chat(s.model, { max_tokens: 500, stream: true })),
    });
    const reader = res.body!.getReader();
    await reader.read();
    controller.abort();
    await world.eventually(async () => s.sims[0]!.stats.aborted === 1);
    const record = await world.eventually(() => world.prisma.usageRecord.findFirst({ where: { modelName: s.model } }));
    expect(['PARTIAL', 'CLIENT_ABORTED']).toContain(record.outcome);
    expect(record.errorCode).toBe('client_aborted');
    expect(record.estimated).toBe(true);
  });

  it('answers 504 when a node does not answer within the first-byte timeout', async () => {
    const s = await scenario('fail/slow', { ttftMs: 3_000 });
    await routable(s.model);
    const res = await postJson(`${api.baseURL}/chat/completions`, chat(s.model), key);
    expect(res.status).toBe(504);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('upstream_timeout');
  });

  it('ends a stream that goes idle with an upstream_timeout error event', async () => {
    const s = await scenario('fail/idle', { ttftMs: 3_000 });
    await routable(s.model);
    const res = await postJson(`${api.baseURL}/chat/completions`, chat(s.model, { stream: true }), key);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('"code":"upstream_timeout"');
  });

  it('passes vLLM 400s through in OpenAI shape and maps node overload to 503', async () => {
    const bad = await scenario('fail/context', { failureRate: 1, failureTypes: ['context_length'] });
    await routable(bad.model);
    const res = await postJson(`${api.baseURL}/chat/completions`, chat(bad.model), key);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: unknown }).error).toMatchObject({ type: 'invalid_request_error', code: 'context_length_exceeded' });
    const busy = await scenario('fail/busy', { failureRate: 1, failureTypes: ['rate_limit'] });
    await routable(busy.model);
    const r2 = await postJson(`${api.baseURL}/chat/completions`, chat(busy.model), key);
    expect(r2.status).toBe(503);
    expect(r2.headers.get('retry-after')).toBe('1');
  });
});
