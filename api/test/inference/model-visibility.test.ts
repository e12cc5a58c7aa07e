// A model limited to some organizations is listed and served only to their keys: anyone else gets exactly
// what a model that does not exist gets (404 model_not_found), through the official openai SDK.
import { randomBytes } from 'node:crypto';
import OpenAI, { NotFoundError } from 'openai';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKey } from '@cic/core/api-keys/key-format';
import { TopicBus } from '@cic/core/lib/topic-bus';
import { setModelEnabled } from '@cic/core/models/set-model-enabled';
import { updateModel } from '@cic/core/models/update-model';
import type { Simulator } from '@cic/vllm-sim';
import { createInferenceWorld, type InferenceWorld, MODEL, startSim } from './inference-fixture.ts';

const LIMITED = 'acme/private-7b';
let world: InferenceWorld;
let sims: Simulator[];
let acme: OpenAI;
let bolt: OpenAI;
let limitedId: string;
let bus: TopicBus;
let publisher: Redis;
const operator = { kind: 'operator', name: 'test' } as const;

beforeAll(async () => {
  world = await createInferenceWorld();
  sims = [await startSim(), await startSim({ model: LIMITED })];
  await world.addNode(sims[0]!.url);
  const limited = await world.prisma.servedModel.create({ data: { name: LIMITED, isPublic: false, access: { create: { organizationId: world.org.id } } } });
  limitedId = limited.id;
  await world.addNode(sims[1]!.url, { modelId: limited.id });
  const other = await world.prisma.organization.create({
    data: { name: 'Bolt', slug: `bolt-${randomBytes(4).toString('hex')}`, billingAccount: { create: { balanceMicros: 1_000_000_000n } } },
  });
  const boltKey = generateKey();
  await world.prisma.apiKey.create({ data: { organizationId: other.id, name: 'bolt', prefix: boltKey.prefix, secretHash: boltKey.secretHash } });
  const api = await world.startApi();
  acme = new OpenAI({ apiKey: (await world.createKey()).secret, baseURL: api.baseURL, maxRetries: 0 });
  bolt = new OpenAI({ apiKey: boltKey.secret, baseURL: api.baseURL, maxRetries: 0 });
  publisher = new Redis(world.redis.url);
  bus = new TopicBus({ redis: publisher, prefix: world.redis.prefix, log: pino({ level: 'silent' }) });
});

afterAll(async () => {
  await world?.close();
  await Promise.all((sims ?? []).map((s) => s.close()));
  await bus?.close();
  publisher?.disconnect();
});

const ids = async (client: OpenAI) => (await client.models.list()).data.map((m) => m.id).sort();
const chat = (client: OpenAI, model: string) => client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Hello' }], max_tokens: 4 });
const refusal = async (client: OpenAI, model: string) => {
  const err = await chat(client, model).then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(NotFoundError);
  const { status, code, type, param, message } = err as NotFoundError;
  return { status, code, type, param, message: message.replace(model, '<model>') };
};

describe('a model limited to organizations', () => {
  it('is listed and served to its organization\'s keys', async () => {
    expect(await ids(acme)).toEqual([LIMITED, MODEL].sort());
    const out = await chat(acme, LIMITED);
    expect(out.model).toBe(LIMITED);
  });

  it('is neither listed nor served to other organizations: the same 404 model_not_found as a model that does not exist', async () => {
    expect(await ids(bolt)).toEqual([MODEL]);
    const limited = await refusal(bolt, LIMITED);
    expect(limited).toMatchObject({ status: 404, code: 'model_not_found', param: 'model' });
    expect(limited).toEqual(await refusal(bolt, 'no-such/model'));
    expect((await chat(bolt, MODEL)).model).toBe(MODEL);
  });

  it('opening it to everyone, or disabling it, reaches the API without a restart', async () => {
    await updateModel({ prisma: world.prisma, bus, viewer: operator, modelId: limitedId, input: { isPublic: true } });
    await world.eventually(async () => (await ids(bolt)).includes(LIMITED));
    expect((await chat(bolt, LIMITED)).model).toBe(LIMITED);
    await setModelEnabled({ prisma: world.prisma, bus, viewer: operator, modelId: limitedId, enabled: false });
    await world.eventually(async () => !(await ids(acme)).includes(LIMITED));
    expect(await refusal(acme, LIMITED)).toMatchObject({ status: 404, code: 'model_not_found' });
  });
});
