import OpenAI, { AuthenticationError, BadRequestError, NotFoundError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '@cic/vllm-sim';
import { createInferenceWorld, type InferenceWorld, MODEL, postJson, startSim } from './inference-fixture.ts';

let world: InferenceWorld;
let sim: Simulator;
let client: OpenAI;
let baseURL: string;
let key: { secret: string; id: string };

beforeAll(async () => {
  world = await createInferenceWorld();
  sim = await startSim({ embeddingDimensions: 16, enableControlRoutes: true, recordRequests: true });
  await world.addNode(sim.url);
  key = await world.createKey();
  baseURL = (await world.startApi()).baseURL;
  client = new OpenAI({ apiKey: key.secret, baseURL, maxRetries: 0 });
  await world.eventually(async () => (await client.models.list()).data.length > 0 || null);
});

afterAll(async () => {
  await world?.close();
  await sim?.close();
});

const norm = (v: number[]): number => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

describe('POST /v1/embeddings', () => {
  it('embeds strings as floats and meters exactly the prompt tokens, no completion tokens', async () => {
    const out = await client.embeddings.create({ model: MODEL, input: ['The quick brown fox', 'jumps'], encoding_format: 'float' });
    expect(out.object).toBe('list');
    expect(out.data.map((d) => d.index)).toEqual([0, 1]);
    for (const d of out.data) {
      expect(d.embedding).toHaveLength(16);
      expect(norm(d.embedding)).toBeCloseTo(1, 5);
    }
    expect(out.usage.prompt_tokens).toBeGreaterThan(0);
    const record = await world.eventually(() => world.prisma.usageRecord.findFirst({ where: { apiKeyId: key.id, endpoint: '/v1/embeddings' } }));
    expect(record).toMatchObject({ promptTokens: out.usage.prompt_tokens, completionTokens: 0, estimated: false, outcome: 'SUCCESS', stream: false, status: 200, modelName: MODEL });
  });

  it('relays base64 embeddings byte for byte; the SDK decodes them to the same floats', async () => {
    const request = { model: MODEL, input: 'hello world', encoding_format: 'base64' };
    const [viaCic, fromNode] = await Promise.all([postJson(`${baseURL}/embeddings`, request, key.secret), postJson(`${sim.url}/v1/embeddings`, request)]);
    expect(viaCic.status).toBe(200);
    const strip = (t: string): string => t.replace(/"id":"[^"]+"/, '').replace(/"created":\d+/, '');
    expect(strip(await viaCic.text())).toBe(strip(await fromNode.text()));
    const floats = await client.embeddings.create({ model: MODEL, input: 'hello world', encoding_format: 'float' });
    // Without encoding_format the SDK asks for base64 and decodes it itself.
    const decoded = await client.embeddings.create({ model: MODEL, input: 'hello world' });
    expect(decoded.data[0]!.embedding).toEqual(floats.data[0]!.embedding.map((x) => Math.fround(x)));
  });

  it('embeds token ids', async () => {
    const out = await client.embeddings.create({ model: MODEL, input: [[1, 2, 3], [4, 5]], encoding_format: 'float' });
    expect(out.data).toHaveLength(2);
    expect(out.usage.prompt_tokens).toBe(5);
  });

  it('refuses empty or mistyped input, streaming and bad encodings with 400 in OpenAI shape, unmetered', async () => {
    for (const [body, param] of [
      [{ model: MODEL, input: '' }, 'input'],
      [{ model: MODEL, input: [] }, 'input'],
      [{ model: MODEL, input: ['a', ''] }, 'input.1'],
      [{ model: MODEL, input: 42 }, 'input'],
      [{ model: MODEL }, 'input'],
      [{ model: MODEL, input: 'x', encoding_format: 'int8' }, 'encoding_format'],
      [{ model: MODEL, input: 'x', stream: true }, 'stream'],
      [{ input: 'x' }, 'model'],
    ] as const) {
      const err = await client.embeddings.create(body as never).catch((e: unknown) => e);
      expect(err, JSON.stringify(body)).toBeInstanceOf(BadRequestError);
      expect((err as BadRequestError).param).toBe(param);
      expect((err as BadRequestError).type).toBe('invalid_request_error');
    }
    // Refused before the rate limiter: never metered (earlier tests' records may still be on their way).
    expect(await world.prisma.usageRecord.count({ where: { endpoint: '/v1/embeddings', status: 400 } })).toBe(0);
  });

  it('answers an unknown model with 404 and a missing key with 401', async () => {
    await expect(client.embeddings.create({ model: 'nope/missing', input: 'x' })).rejects.toBeInstanceOf(NotFoundError);
    const anonymous = new OpenAI({ apiKey: 'cic_not_a_key', baseURL, maxRetries: 0 });
    await expect(anonymous.embeddings.create({ model: MODEL, input: 'x' })).rejects.toBeInstanceOf(AuthenticationError);
  });
});
