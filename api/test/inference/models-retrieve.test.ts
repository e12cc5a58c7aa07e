// GET /v1/models/{id}: a served model by name, percent-encoded as the openai SDK sends it or raw with its `/`.
import { randomBytes } from 'node:crypto';
import OpenAI, { AuthenticationError, NotFoundError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '@cic/vllm-sim';
import { createInferenceWorld, type InferenceWorld, MODEL, startSim } from './inference-fixture.ts';

const LIMITED = 'bolt/private-7b';
let world: InferenceWorld;
let sims: Simulator[];
let client: OpenAI;
let baseURL: string;
let key: string;
const sent: string[] = [];

beforeAll(async () => {
  world = await createInferenceWorld();
  sims = [await startSim(), await startSim({ model: LIMITED })];
  await world.addNode(sims[0]!.url);
  // Served, but limited to another organization: to this key it must not exist.
  const bolt = await world.prisma.organization.create({ data: { name: 'Bolt', slug: `bolt-${randomBytes(4).toString('hex')}` } });
  const limited = await world.prisma.servedModel.create({ data: { name: LIMITED, isPublic: false, access: { create: { organizationId: bolt.id } } } });
  await world.addNode(sims[1]!.url, { modelId: limited.id });
  key = (await world.createKey()).secret;
  baseURL = (await world.startApi()).baseURL;
  // What the SDK puts on the wire, to answer what it really sends.
  client = new OpenAI({ apiKey: key, baseURL, maxRetries: 0, fetch: (url, init) => (sent.push(String(url)), fetch(url, init)) });
  await world.eventually(async () => (await client.models.list()).data.length > 0 || null);
});

afterAll(async () => {
  await world?.close();
  await Promise.all((sims ?? []).map((s) => s.close()));
});

const get = (path: string, auth: string | null = key) => fetch(`${baseURL}${path}`, { headers: auth ? { authorization: `Bearer ${auth}` } : {} });

describe('GET /v1/models/{id}', () => {
  it('retrieves a model through the SDK, which percent-encodes the slash in its name', async () => {
    const model = await client.models.retrieve(MODEL);
    expect(model).toMatchObject({ id: MODEL, object: 'model', owned_by: 'cic', max_model_len: 4096, created: expect.any(Number) });
    expect(sent.at(-1)).toBe(`${baseURL}/models/${MODEL.replace('/', '%2F')}`);
    const listed = (await client.models.list()).data.find((m) => m.id === MODEL);
    expect(model).toEqual(listed);
  });

  it('accepts the raw form with the slash as a path separator', async () => {
    const res = await get(`/models/${MODEL}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-ratelimit-limit-requests')).not.toBeNull();
    expect(((await res.json()) as { id: string }).id).toBe(MODEL);
  });

  it('404s unknown names, a model limited to another organization and broken encodings alike', async () => {
    for (const name of ['nope/missing', LIMITED]) {
      const err = await client.models.retrieve(name).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(NotFoundError);
      expect((err as NotFoundError).error).toEqual({ code: 'model_not_found', type: 'invalid_request_error', param: 'model', message: `The model '${name}' does not exist or you do not have access to it.` });
    }
    const broken = await get('/models/%E0%A4%A');
    expect(broken.status).toBe(404);
    expect(await broken.json()).toMatchObject({ error: { code: 'model_not_found' } });
  });

  it('needs a key, and answers other methods with 405 naming GET', async () => {
    await expect(new OpenAI({ apiKey: 'cic_wrong', baseURL, maxRetries: 0 }).models.retrieve(MODEL)).rejects.toBeInstanceOf(AuthenticationError);
    expect((await get(`/models/${MODEL}`, null)).status).toBe(401);
    const post = await fetch(`${baseURL}/models/${MODEL}`, { method: 'POST', headers: { authorization: `Bearer ${key}` } });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET');
  });
});
