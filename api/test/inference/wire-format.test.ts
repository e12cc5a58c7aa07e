import OpenAI from 'openai';
import type { ChatCompletionChunk, ChatCompletionTool } from 'openai/resources/chat/completions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '@cic/vllm-sim';
import { createInferenceWorld, type InferenceWorld, MODEL, postJson, startSim } from './inference-fixture.ts';

/*
 * vLLM's wire format beyond plain text, through CIC with the official SDK: tool calls, json_schema,
 * logprobs, n > 1. Twin simulators (same seed), one behind CIC and one called directly, show the relayed
 * bytes are the node's own; the proxied one records what CIC forwarded, to prove the client's bytes
 * (numbers beyond 2^53 included) reach the node unchanged.
 */

const SIM_OPTIONS = { enableAutoToolChoice: true, toolCallParser: 'hermes', enableControlRoutes: true, recordRequests: true };
const WEATHER: ChatCompletionTool = {
  type: 'function',
  function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer' } }, required: ['city', 'days'] } },
};

let world: InferenceWorld;
let proxiedSim: Simulator;
let directSim: Simulator;
let client: OpenAI;
let direct: OpenAI;
let key: string;
let baseURL: string;

beforeAll(async () => {
  world = await createInferenceWorld();
  [proxiedSim, directSim] = await Promise.all([startSim(SIM_OPTIONS), startSim(SIM_OPTIONS)]);
  await world.addNode(proxiedSim.url);
  key = (await world.createKey()).secret;
  baseURL = (await world.startApi()).baseURL;
  client = new OpenAI({ apiKey: key, baseURL, maxRetries: 0 });
  direct = new OpenAI({ apiKey: 'unused', baseURL: `${directSim.url}/v1`, maxRetries: 0 });
  await world.eventually(async () => (await client.models.list()).data.length > 0 || null);
});

afterAll(async () => {
  await world?.close();
  await Promise.allSettled([proxiedSim?.close(), directSim?.close()]);
});

/** Per-response ids and timestamps: the only bytes two simulators with the same seed send differently. */
const normalize = (body: string): string =>
  body.replace(/"id":"(chatcmpl-tool|chatcmpl|cmpl)-[0-9a-f]+"/g, '"id":"$1-ID"').replace(/"created":\d+/g, '"created":0');

/** The raw answer of the same request, through CIC and straight from the twin. */
async function rawBoth(path: string, body: Record<string, unknown>): Promise<{ proxied: string; direct: string }> {
  // A seed of its own: the twins' default seeds advance with every request each has served.
  const request = { model: MODEL, seed: 5, ...body };
  const [p, d] = await Promise.all([postJson(`${baseURL}${path}`, request, key), postJson(`${directSim.url}/v1${path}`, request)]);
  expect(p.status).toBe(200);
  return { proxied: normalize(await p.text()), direct: normalize(await d.text()) };
}

/** What the node behind CIC last received, byte for byte. */
async function lastForwardedBody(): Promise<string> {
  const { requests } = (await (await fetch(`${proxiedSim.url}/_sim/requests`)).json()) as { requests: { path: string; body_base64: string }[] };
  return Buffer.from(requests.at(-1)!.body_base64, 'base64').toString('utf8');
}

const weatherQuestion = [{ role: 'user' as const, content: 'Call get_weather for Paris please' }];

describe('tool calls', () => {
  it('returns tool_calls whole, as the node answered them', async () => {
    const out = await client.chat.completions.create({ model: MODEL, messages: weatherQuestion, tools: [WEATHER] });
    const choice = out.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    const call = choice.message.tool_calls![0] as { id: string; function: { name: string; arguments: string } };
    expect(call.function.name).toBe('get_weather');
    expect(JSON.parse(call.function.arguments)).toMatchObject({ city: expect.any(String), days: expect.any(Number) });
    const { proxied, direct: twin } = await rawBoth('/chat/completions', { messages: weatherQuestion, tools: [WEATHER] });
    expect(proxied).toBe(twin);
  });

  it('streams tool_calls deltas (id and name first, then argument fragments) byte for byte', async () => {
    const stream = await client.chat.completions.create({ model: MODEL, messages: weatherQuestion, tools: [WEATHER], stream: true });
    const deltas: ChatCompletionChunk.Choice.Delta.ToolCall[] = [];
    let finish: string | null = null;
    for await (const chunk of stream) {
      deltas.push(...(chunk.choices[0]?.delta.tool_calls ?? []));
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(deltas[0]).toMatchObject({ index: 0, id: expect.stringMatching(/^chatcmpl-tool-/), type: 'function', function: { name: 'get_weather', arguments: '' } });
    expect(deltas.length).toBeGreaterThan(2);
    const args = deltas.map((d) => d.function?.arguments ?? '').join('');
    expect(JSON.parse(args)).toMatchObject({ city: expect.any(String), days: expect.any(Number) });
    expect(finish).toBe('tool_calls');
    const { proxied, direct: twin } = await rawBoth('/chat/completions', { messages: weatherQuestion, tools: [WEATHER], stream: true });
    expect(proxied).toBe(twin);
  });
});

describe('response_format json_schema', () => {
  const schema = { type: 'object', properties: { name: { type: 'string' }, tags: { type: 'array', items: { type: 'string' }, minItems: 2 } }, required: ['name', 'tags'] };
  const responseFormat = { type: 'json_schema' as const, json_schema: { name: 'person', schema, strict: true } };

  it('answers JSON that fits the schema, whole and streamed', async () => {
    const out = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Describe someone' }], response_format: responseFormat });
    const value = JSON.parse(out.choices[0]!.message.content!) as { name: string; tags: string[] };
    expect(typeof value.name).toBe('string');
    expect(value.tags.length).toBeGreaterThanOrEqual(2);
    const stream = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Describe someone' }], response_format: responseFormat, stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(JSON.parse(text)).toEqual(value);
  });
});

describe('logprobs', () => {
  it('chat: logprobs.content with top_logprobs, whole and per streamed chunk', async () => {
    const out = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Say three words' }], logprobs: true, top_logprobs: 2, max_tokens: 3 });
    const content = out.choices[0]!.logprobs!.content!;
    expect(content).toHaveLength(out.usage!.completion_tokens);
    for (const entry of content) {
      expect(entry).toMatchObject({ token: expect.any(String), logprob: expect.any(Number), bytes: expect.any(Array) });
      expect(entry.top_logprobs).toHaveLength(2);
    }
    const stream = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Say three words' }], logprobs: true, top_logprobs: 2, max_tokens: 3, stream: true });
    const streamed: string[] = [];
    for await (const chunk of stream) for (const e of chunk.choices[0]?.logprobs?.content ?? []) streamed.push(e.token);
    expect(streamed).toEqual(content.map((e) => e.token));
  });

  it('completions: tokens, token_logprobs, top_logprobs and text_offset, relayed byte for byte', async () => {
    const out = await client.completions.create({ model: MODEL, prompt: 'Once upon a time', logprobs: 2, max_tokens: 4 });
    const lp = out.choices[0]!.logprobs!;
    expect(lp.tokens).toHaveLength(4);
    expect(lp.token_logprobs).toHaveLength(4);
    expect(lp.text_offset).toHaveLength(4);
    expect(Object.keys(lp.top_logprobs![0]!).length).toBeGreaterThanOrEqual(2);
    const { proxied, direct: twin } = await rawBoth('/completions', { prompt: 'Once upon a time', logprobs: 2, max_tokens: 4, stream: true });
    expect(proxied).toBe(twin);
  });
});

describe('n > 1', () => {
  it('streams every choice by its index and exactly one usage chunk, counting all choices', async () => {
    const stream = await client.chat.completions.create({
      model: MODEL, messages: [{ role: 'user', content: 'Hello there friend' }], n: 3, max_tokens: 5, stream: true, stream_options: { include_usage: true },
    });
    const texts = ['', '', ''];
    let tokenChunks = 0;
    const finishes = new Set<number>();
    let usageChunks = 0;
    let completionTokens = 0;
    for await (const chunk of stream) {
      for (const c of chunk.choices) {
        texts[c.index] += c.delta.content ?? '';
        if (c.delta.content) tokenChunks++;
        if (c.finish_reason) finishes.add(c.index);
      }
      if (chunk.usage) {
        usageChunks++;
        expect(chunk.choices).toEqual([]);
        completionTokens = chunk.usage.completion_tokens;
      }
    }
    expect(texts.every((t) => t.length > 0)).toBe(true);
    expect([...finishes].sort()).toEqual([0, 1, 2]);
    expect(usageChunks).toBe(1);
    // One token per content chunk (vLLM's streaming): the usage counts every choice's.
    expect(completionTokens).toBe(tokenChunks);
  });

  it('without include_usage drops only the usage chunk CIC asked for', async () => {
    const body = { messages: [{ role: 'user', content: 'Hello there friend' }], n: 2, max_tokens: 4, stream: true, logprobs: true, top_logprobs: 1 };
    const { proxied, direct: twin } = await rawBoth('/chat/completions', body);
    expect(twin).not.toContain('"usage"');
    expect(proxied).toBe(twin);
    const viaTwinSdk = await direct.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Hi' }], n: 2, max_tokens: 2 });
    expect(viaTwinSdk.choices.map((c) => c.index)).toEqual([0, 1]);
  });
});

describe('the client body reaches the node unchanged', () => {
  const body = '{"model":"MODEL","messages":[{"role":"user","content":"caf\\u00e9"}],  "seed":9007199254740993,"max_tokens":2,\n"metadata":{"big":12345678901234567890}, "logit_bias":{"42":-100.50}}'.replace('MODEL', MODEL);

  it('whole: forwarded byte for byte', async () => {
    const res = await postJson(`${baseURL}/chat/completions`, body, key);
    expect(res.status).toBe(200);
    expect(await lastForwardedBody()).toBe(body);
  });

  it('streamed: only stream_options.include_usage is added, the big integers arrive exactly', async () => {
    const streamed = body.replace('"max_tokens":2', '"max_tokens":2,"stream":true');
    const res = await postJson(`${baseURL}/chat/completions`, streamed, key);
    expect(res.status).toBe(200);
    await res.text();
    const forwarded = await lastForwardedBody();
    expect(forwarded).toBe(`{"stream_options":{"include_usage":true},${streamed.slice(1)}`);
    expect(forwarded).toContain('"seed":9007199254740993');
    expect(forwarded).toContain('"big":12345678901234567890');
  });
});
