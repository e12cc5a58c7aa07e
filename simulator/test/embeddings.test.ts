import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../src/server.ts';
import { countTokens } from '../src/tokenizer.ts';
import { startSimulator } from './helpers.ts';

const MODEL = 'test/embed';
let sim: Simulator;
let client: OpenAI;

beforeAll(async () => {
  sim = await startSimulator({ model: MODEL, embeddingDimensions: 64, matryoshka: true, maxModelLen: 32 });
  client = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});
afterAll(() => sim.close());

const norm = (vector: number[]): number => Math.sqrt(vector.reduce((sum, value) => sum + value * value, 0));

/** What the wire carries, read without the SDK (which decodes base64 itself). */
async function raw(body: Record<string, unknown>): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${sim.url}/v1/embeddings`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

describe('POST /v1/embeddings', () => {
  it('returns deterministic unit vectors per input, with usage, through the SDK', async () => {
    const inputs = ['hello world', 'something else entirely', 'hello world'];
    const response = await client.embeddings.create({ model: MODEL, input: inputs, encoding_format: 'float' });
    expect(response).toMatchObject({ object: 'list', model: MODEL });
    expect(response.data.map((item) => [item.index, item.object, item.embedding.length])).toEqual([
      [0, 'embedding', 64],
      [1, 'embedding', 64],
      [2, 'embedding', 64],
    ]);
    const promptTokens = inputs.reduce((sum, input) => sum + countTokens(input), 0);
    expect(response.usage).toEqual({ prompt_tokens: promptTokens, total_tokens: promptTokens, completion_tokens: 0, prompt_tokens_details: null });
    const [a, b, c] = response.data.map((item) => item.embedding);
    for (const vector of [a!, b!]) expect(norm(vector)).toBeCloseTo(1, 5);
    expect(c).toEqual(a);
    expect(b).not.toEqual(a);
    const again = await client.embeddings.create({ model: MODEL, input: 'hello world', encoding_format: 'float' });
    expect(again.data[0]!.embedding).toEqual(a);
  });

  it('sends base64 little-endian float32 that decodes to the float vector', async () => {
    const float = await raw({ model: MODEL, input: 'hello world', encoding_format: 'float' });
    const encoded = await raw({ model: MODEL, input: 'hello world', encoding_format: 'base64' });
    const floats = (float.json.data as Array<{ embedding: number[] }>)[0]!.embedding;
    const text = (encoded.json.data as Array<{ embedding: string }>)[0]!.embedding;
    expect(typeof text).toBe('string');
    const bytes = Buffer.from(text, 'base64');
    expect(bytes.length).toBe(64 * 4);
    expect(Array.from({ length: 64 }, (_, i) => bytes.readFloatLE(i * 4))).toEqual(floats);
    // The SDK asks for base64 by default and decodes it.
    const viaSdk = await client.embeddings.create({ model: MODEL, input: 'hello world' });
    expect(viaSdk.data[0]!.embedding).toEqual(floats);
  });

  it('takes token ids, one list or several', async () => {
    const one = await client.embeddings.create({ model: MODEL, input: [1, 2, 3], encoding_format: 'float' });
    expect(one.data).toHaveLength(1);
    expect(one.usage.prompt_tokens).toBe(3);
    const two = await client.embeddings.create({ model: MODEL, input: [[1, 2, 3], [4, 5]], encoding_format: 'float' });
    expect(two.data.map((item) => item.index)).toEqual([0, 1]);
    expect(two.usage).toMatchObject({ prompt_tokens: 5, total_tokens: 5 });
    expect(two.data[0]!.embedding).toEqual(one.data[0]!.embedding);
  });

  it('truncates to `dimensions` and normalises again on a matryoshka model', async () => {
    const full = await client.embeddings.create({ model: MODEL, input: 'abc', encoding_format: 'float' });
    const short = await client.embeddings.create({ model: MODEL, input: 'abc', dimensions: 8, encoding_format: 'float' });
    const vector = short.data[0]!.embedding;
    expect(vector).toHaveLength(8);
    expect(norm(vector)).toBeCloseTo(1, 5);
    const prefix = full.data[0]!.embedding.slice(0, 8);
    const scale = norm(prefix);
    vector.forEach((value, i) => expect(value).toBeCloseTo(prefix[i]! / scale, 5));
  });

  it.each([
    ['a bad encoding_format', { input: 'x', encoding_format: 'hex' }, 'encoding_format'],
    ['no input', {}, 'input'],
    ['an empty list', { input: [] }, 'input'],
    ['dimensions of 0', { input: 'x', dimensions: 0 }, 'dimensions'],
    ['dimensions above the hidden size', { input: 'x', dimensions: 65 }, 'dimensions'],
  ])('400s %s in vLLM’s error shape', async (_name, body, param) => {
    const { status, json } = await raw({ model: MODEL, ...body });
    expect(status).toBe(400);
    expect(json).toEqual({ error: { message: expect.any(String), type: 'BadRequestError', param, code: 400 } });
  });

  it('400s an input longer than max_model_len and 404s another model, through the SDK', async () => {
    const long = Array.from({ length: 40 }, (_, i) => `w${i}`).join(' ');
    await expect(client.embeddings.create({ model: MODEL, input: long })).rejects.toMatchObject({
      status: 400,
      error: { type: 'BadRequestError', code: 400 },
    });
    await expect(client.embeddings.create({ model: 'other', input: 'x' })).rejects.toMatchObject({ status: 404 });
  });

  it('refuses `dimensions` on a model without matryoshka support', async () => {
    const plain = await startSimulator({ model: MODEL });
    try {
      const response = await fetch(`${plain.url}/v1/embeddings`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ input: 'x', dimensions: 8 }),
      });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(/does not support matryoshka/);
      const defaults = (await (
        await fetch(`${plain.url}/v1/embeddings`, { method: 'POST', body: JSON.stringify({ input: 'x' }) })
      ).json()) as { data: Array<{ embedding: number[] }> };
      expect(defaults.data[0]!.embedding).toHaveLength(384);
    } finally {
      await plain.close();
    }
  });
});
