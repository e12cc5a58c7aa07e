import OpenAI, { AuthenticationError, NotFoundError, BadRequestError, PermissionDeniedError, RateLimitError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '@cic/vllm-sim';
import { countChatPromptTokens } from '@cic/vllm-sim';
import { createInferenceWorld, type InferenceWorld, MODEL, startSim } from './inference-fixture.ts';

let world: InferenceWorld;
let sim: Simulator;
let client: OpenAI;
let baseURL: string;
let keyId: string;

beforeAll(async () => {
  world = await createInferenceWorld();
  sim = await startSim();
  await world.addNode(sim.url);
  const key = await world.createKey();
  keyId = key.id;
  const api = await world.startApi();
  baseURL = api.baseURL;
  client = new OpenAI({ apiKey: key.secret, baseURL, maxRetries: 0 });
});

afterAll(async () => {
  await world?.close();
  await sim?.close();
});

const messages = [{ role: 'user' as const, content: 'Hello there, how are you today?' }];

describe('the official openai SDK against /v1', () => {
  it('creates a chat completion and meters exactly its usage', async () => {
    const out = await client.chat.completions.create({ model: MODEL, messages, max_tokens: 16 });
    expect(out.object).toBe('chat.completion');
    expect(out.choices[0]?.message.content).toBe('Hello there, how are you today?');
    expect(out.usage?.prompt_tokens).toBe(countChatPromptTokens(messages));
    const record = await world.eventually(() => world.prisma.usageRecord.findFirst({ where: { apiKeyId: keyId, stream: false, endpoint: '/v1/chat/completions' } }));
    expect(record).toMatchObject({ promptTokens: out.usage?.prompt_tokens, completionTokens: out.usage?.completion_tokens, outcome: 'SUCCESS', estimated: false, status: 200, modelName: MODEL });
    expect(record.id).toMatch(/^use_/);
  });

  it('streams a chat completion without the usage chunk unless asked', async () => {
    const stream = await client.chat.completions.create({ model: MODEL, messages, stream: true });
    let text = '';
    let usageChunks = 0;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usageChunks++;
    }
    expect(text).toBe('Hello there, how are you today?');
    expect(usageChunks).toBe(0);
  });

  it('streams with include_usage and reports the same usage it meters', async () => {
    const stream = await client.chat.completions.create({ model: MODEL, messages, stream: true, stream_options: { include_usage: true } });
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const chunk of stream) if (chunk.usage) usage = chunk.usage;
    expect(usage?.completion_tokens).toBeGreaterThan(0);
    const rows = await world.eventually(async () => {
      const r = await world.prisma.usageRecord.findMany({ where: { apiKeyId: keyId, stream: true } });
      return r.length >= 2 ? r : null;
    });
    for (const r of rows) expect({ p: r.promptTokens, c: r.completionTokens, o: r.outcome, e: r.estimated }).toEqual({ p: usage?.prompt_tokens, c: usage?.completion_tokens, o: 'SUCCESS', e: false });
  });

  it('serves legacy completions, streamed and not', async () => {
    const whole = await client.completions.create({ model: MODEL, prompt: 'Once upon a time', max_tokens: 8 });
    expect(whole.choices[0]?.text).toBe('Once upon a time');
    const stream = await client.completions.create({ model: MODEL, prompt: 'Once upon a time', max_tokens: 8, stream: true, stream_options: { include_usage: true } });
    let text = '';
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.text ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe('Once upon a time');
    expect(usage).toMatchObject({ prompt_tokens: whole.usage?.prompt_tokens, completion_tokens: whole.usage?.completion_tokens });
  });

  it('lists the models served by READY nodes', async () => {
    const page = await client.models.list();
    expect(page.data.map((m) => m.id)).toEqual([MODEL]);
    expect(page.data[0]).toMatchObject({ object: 'model', owned_by: 'cic' });
  });

  it('raises AuthenticationError for a bad key', async () => {
    const bad = new OpenAI({ apiKey: 'cic_AAAAAAAAAAAA_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB', baseURL, maxRetries: 0 });
    const err = await bad.chat.completions.create({ model: MODEL, messages }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthenticationError);
    expect((err as AuthenticationError).code).toBe('invalid_api_key');
    expect((err as AuthenticationError).type).toBe('authentication_error');
  });

  it('raises NotFoundError for an unknown model', async () => {
    const err = await client.chat.completions.create({ model: 'no/such-model', messages }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as NotFoundError).code).toBe('model_not_found');
    expect((err as NotFoundError).param).toBe('model');
  });

  it('raises PermissionDeniedError for a key without the inference scope', async () => {
    const key = await world.createKey({ scopes: ['read'] });
    const scoped = new OpenAI({ apiKey: key.secret, baseURL, maxRetries: 0 });
    const err = await scoped.models.list().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermissionDeniedError);
  });

  it('raises RateLimitError with Retry-After once the key exceeds its RPM', async () => {
    const key = await world.createKey({ rpmLimit: 2 });
    const limited = new OpenAI({ apiKey: key.secret, baseURL, maxRetries: 0 });
    await limited.chat.completions.create({ model: MODEL, messages, max_tokens: 4 });
    const second = await limited.chat.completions.create({ model: MODEL, messages, max_tokens: 4 }).withResponse();
    expect(second.response.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    const err = await limited.chat.completions.create({ model: MODEL, messages, max_tokens: 4 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitError);
    const e = err as RateLimitError;
    expect(e.code).toBe('rate_limit_exceeded');
    expect(Number(e.headers?.get('retry-after'))).toBeGreaterThan(0);
    for (const h of ['limit', 'remaining', 'reset']) {
      expect(e.headers?.get(`x-ratelimit-${h}-requests`)).toBeTruthy();
      expect(e.headers?.get(`x-ratelimit-${h}-tokens`)).toBeTruthy();
    }
  });

  it('refuses a request whose token reservation exceeds the key TPM as a bad request (it could never be admitted)', async () => {
    const key = await world.createKey({ tpmLimit: 100 });
    const limited = new OpenAI({ apiKey: key.secret, baseURL, maxRetries: 0 });
    const err = await limited.chat.completions.create({ model: MODEL, messages, max_tokens: 500 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect((err as BadRequestError).message).toMatch(/tokens per minute/);
  });
});
