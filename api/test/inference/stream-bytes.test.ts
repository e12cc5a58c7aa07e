import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '@cic/vllm-sim';
import { createInferenceWorld, type InferenceWorld, MODEL, postJson, startSim } from './inference-fixture.ts';

/*
 * Byte-level pass-through: two simulators with the same seed, one called directly and one behind CIC,
 * must produce the same bytes. Only the per-response id and timestamp differ between two vLLM answers.
 */

let world: InferenceWorld;
let key: string;
let baseURL: string;
const sims: Simulator[] = [];

beforeAll(async () => {
  world = await createInferenceWorld();
  key = (await world.createKey()).secret;
  baseURL = (await world.startApi()).baseURL;
});

afterAll(async () => {
  await world?.close();
  await Promise.allSettled(sims.map((s) => s.close()));
});

const normalize = (body: string): string =>
  body.replace(/"id":"(chatcmpl|cmpl)-[0-9a-f]+"/g, '"id":"ID"').replace(/"created":\d+/g, '"created":0');

/** The same request straight to a fresh simulator and through CIC to its twin (same seed, own model). */
async function both(path: string, body: Record<string, unknown>, seed: number) {
  const model = `${MODEL}-${seed}`;
  const [direct, proxied] = await Promise.all([startSim({ model, seed, mode: 'random' }), startSim({ model, seed, mode: 'random' })]);
  sims.push(direct, proxied);
  const m = await world.addModel(model);
  await world.addNode(proxied.url, { modelId: m.id });
  const request = { ...body, model };
  const directBody = await (await postJson(`${direct.url}/v1${path}`, request)).text();
  const res = await world.eventually(async () => {
    const r = await postJson(`${baseURL}${path}`, request, key);
    return r.status === 404 || r.status === 503 ? null : r;
  });
  return { direct: directBody, proxied: await res.text(), res, proxiedSim: proxied };
}

describe('streaming pass-through', () => {
  it('relays vLLM chat chunks byte for byte, usage chunk included when asked', async () => {
    const { direct, proxied, res } = await both('/chat/completions', { messages: [{ role: 'user', content: 'Tell me a story' }], max_tokens: 40, stream: true, stream_options: { include_usage: true } }, 11);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(direct).toContain('"choices":[],"usage"');
    expect(normalize(proxied)).toBe(normalize(direct));
  });

  it('cuts exactly the usage chunk it asked for on the client behalf', async () => {
    const { direct, proxied, proxiedSim } = await both('/chat/completions', { messages: [{ role: 'user', content: 'Tell me a story' }], max_tokens: 40, stream: true }, 12);
    expect(direct).not.toContain('"usage"');
    expect(normalize(proxied)).toBe(normalize(direct));
    expect(proxiedSim.stats.completed).toBe(1);
  });

  it('relays legacy completion streams and whole answers unchanged', async () => {
    const streamed = await both('/completions', { prompt: 'Once upon a time', max_tokens: 30, stream: true }, 13);
    expect(normalize(streamed.proxied)).toBe(normalize(streamed.direct));
    const whole = await both('/completions', { prompt: 'Once upon a time', max_tokens: 30 }, 14);
    expect(normalize(whole.proxied)).toBe(normalize(whole.direct));
  });

  it('meters the token counts the simulator reported', async () => {
    const { proxied } = await both('/chat/completions', { messages: [{ role: 'user', content: 'Count with me' }], max_tokens: 25, stream: true, stream_options: { include_usage: true } }, 15);
    const usageLine = proxied.split('\n\n').find((e) => e.includes('"choices":[],"usage"'))!;
    const { usage } = JSON.parse(usageLine.slice('data: '.length)) as { usage: { prompt_tokens: number; completion_tokens: number } };
    const record = await world.eventually(() => world.prisma.usageRecord.findFirst({ where: { modelName: `${MODEL}-15`, status: 200 } }));
    expect({ p: record.promptTokens, c: record.completionTokens, estimated: record.estimated, outcome: record.outcome }).toEqual({ p: usage.prompt_tokens, c: usage.completion_tokens, estimated: false, outcome: 'SUCCESS' });
    expect(record.ttftMs).not.toBeNull();
  });
});
