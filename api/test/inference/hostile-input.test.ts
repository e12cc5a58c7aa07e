import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '@cic/vllm-sim';
import { createInferenceWorld, type InferenceWorld, MODEL, postJson, startSim } from './inference-fixture.ts';

let world: InferenceWorld;
let sim: Simulator;
let key: string;
let api: Awaited<ReturnType<InferenceWorld['startApi']>>;

beforeAll(async () => {
  world = await createInferenceWorld();
  sim = await startSim();
  await world.addNode(sim.url);
  key = (await world.createKey({ tpmLimit: 100_000 })).secret;
  api = await world.startApi();
});

afterAll(async () => {
  await world?.close();
  await sim?.close();
});

interface ErrorBody { error: { message: string; type: string; param: string | null; code: string | null } }

const url = () => `${api.baseURL}/chat/completions`;
const messages = [{ role: 'user', content: 'Hi' }];
const deeplyNested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

/**
 * A counting pass-through in front of the API, so a test can see how many times an SDK sent its request.
 * Bodies are piped both ways unchanged.
 */
async function countingProxy(target: string) {
  let count = 0;
  const server: Server = createServer((req, res) => {
    count++;
    const upstream = request(`${target}${req.url}`, { method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, count: () => count, close: () => new Promise((r) => server.close(r)) };
}

describe('hostile JSON under /v1', () => {
  it.each([false, true])('an extra field nested 50,000 arrays deep is a 400 json_too_deep (stream: %s), and the process serves on', async (stream) => {
    const body = `{"model":"${MODEL}","messages":[{"role":"user","content":"Hi"}],"stream":${stream},"extra":${deeplyNested(50_000)}}`;
    const res = await postJson(url(), body, key);
    expect(res.status).toBe(400);
    expect(((await res.json()) as ErrorBody).error).toMatchObject({ type: 'invalid_request_error', code: 'json_too_deep', param: null });
    expect((await postJson(url(), { model: MODEL, messages, max_tokens: 2 }, key)).status).toBe(200);
  });

  it('the official SDK raises BadRequestError for it', async () => {
    const openai = new OpenAI({ baseURL: api.baseURL, apiKey: key, maxRetries: 0 });
    // The SDK cannot JSON.stringify 50,000 levels itself: send the prepared text as the body.
    const raw = `{"model":"${MODEL}","messages":[{"role":"user","content":"Hi"}],"stream":true,"extra":${deeplyNested(50_000)}}`;
    const sent = openai.post('/chat/completions', { body: raw as unknown as Record<string, unknown>, headers: { 'content-type': 'application/json' } });
    await expect(sent).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    await expect(sent).rejects.toMatchObject({ status: 400, code: 'json_too_deep' });
  });

  it('nesting at the limit (64) is accepted', async () => {
    const res = await postJson(url(), `{"model":"${MODEL}","messages":[{"role":"user","content":"Hi"}],"max_tokens":2,"extra":${deeplyNested(63)}}`, key);
    expect(res.status).toBe(200);
    const over = await postJson(url(), `{"model":"${MODEL}","messages":[{"role":"user","content":"Hi"}],"max_tokens":2,"extra":${deeplyNested(64)}}`, key);
    expect(over.status).toBe(400);
  });
});

describe('OpenAI error codes for bad fields', () => {
  it.each([
    ['max_tokens', { max_tokens: '10' }, /^Invalid type for 'max_tokens': expected a number, but got a string instead\.$/],
    ['model', { model: 123 }, /^Invalid type for 'model': expected a string, but got an integer instead\.$/],
    ['stream', { stream: 'yes' }, /^Invalid type for 'stream': expected a boolean, but got a string instead\.$/],
    ['messages', { messages: 'hello' }, /^Invalid type for 'messages': expected an array, but got a string instead\.$/],
    ['temperature', { temperature: null, top_p: true }, /^Invalid type for 'top_p': expected a number, but got a boolean instead\.$/],
  ])('a wrong-typed %s is invalid_type, not missing', async (_name, fields, message) => {
    const res = await postJson(url(), { model: MODEL, messages, ...fields }, key);
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as ErrorBody;
    const param = Object.keys(fields).find((f) => f !== 'temperature')!;
    expect(error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_type', param });
    expect(error.message).toMatch(message);
  });

  it('an absent field is missing_required_parameter, an out-of-range one invalid_value', async () => {
    const missing = (await (await postJson(url(), { messages }, key)).json()) as ErrorBody;
    expect(missing.error).toMatchObject({ code: 'missing_required_parameter', param: 'model', message: "Missing required parameter: 'model'." });
    const noRole = (await (await postJson(url(), { model: MODEL, messages: [{ content: 'x' }] }, key)).json()) as ErrorBody;
    expect(noRole.error).toMatchObject({ code: 'missing_required_parameter', param: 'messages.0.role' });
    const negative = (await (await postJson(url(), { model: MODEL, messages, max_tokens: -5 }, key)).json()) as ErrorBody;
    expect(negative.error).toMatchObject({ code: 'invalid_value', param: 'max_tokens' });
  });

  it.each([
    ['max_tokens', 1e15],
    ['max_tokens', 100_001],
    ['max_completion_tokens', 1e15],
  ])('%s = %d (beyond the key\'s TPM) is a 400 invalid_value without Retry-After, and the SDK sends it once', async (field, value) => {
    const proxy = await countingProxy(api.url);
    try {
      const openai = new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: key, maxRetries: 3 });
      const sent = openai.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Hi' }], [field]: value });
      await expect(sent).rejects.toBeInstanceOf(OpenAI.BadRequestError);
      await expect(sent).rejects.toMatchObject({ status: 400, code: 'invalid_value', param: field });
      expect(proxy.count()).toBe(1);
      const res = await postJson(url(), { model: MODEL, messages, [field]: value }, key);
      expect(res.status).toBe(400);
      expect(res.headers.get('retry-after')).toBeNull();
    } finally {
      await proxy.close();
    }
  });
});
