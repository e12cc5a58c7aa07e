// Per-key spend controls through the official openai SDK against CIC and the simulator: daily/monthly
// budgets that hold under 50 concurrent requests, allowed models, the OpenAI `user` field recorded and
// filterable, and the GraphQL mutation that sets them (validation, roles, tenants, audit).
import OpenAI, { NotFoundError, RateLimitError } from 'openai';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { budgetWindows, createKeyBudgets } from '@cic/core/billing/key-budgets';
import type { Simulator } from '@cic/vllm-sim';
import { createGraphQLWorld, eventually, gql } from '../graphql/graphql-fixture.ts';
import { MODEL, postJson, startSim } from './inference-fixture.ts';

const OTHER = 'cic/sim-other-1';
/** Micro-dollars per million tokens: 100 micro-dollars per prompt token, 200 per completion token. */
const PROMPT_PRICE = 100_000_000n;
const COMPLETION_PRICE = 200_000_000n;
const MAX_TOKENS = 10;

let world: Awaited<ReturnType<typeof createGraphQLWorld>>;
let a: Awaited<ReturnType<typeof world.tenant>>;
let b: Awaited<ReturnType<typeof world.tenant>>;
let sims: Simulator[];
let api: { url: string };
let redis: Redis;

beforeAll(async () => {
  world = await createGraphQLWorld();
  a = await world.tenant('Acme');
  b = await world.tenant('Bolt');
  // A first token after 300 ms: the 50 concurrent requests below are all in flight together.
  sims = [await startSim({ ttftMs: 300 }), await startSim({ model: OTHER })];
  const model = await world.prisma.servedModel.create({ data: { name: MODEL, promptPriceMicros: PROMPT_PRICE, completionPriceMicros: COMPLETION_PRICE } });
  const other = await world.prisma.servedModel.create({ data: { name: OTHER } });
  for (const [sim, modelId] of [[sims[0]!, model.id], [sims[1]!, other.id]] as const) {
    await world.prisma.node.create({ data: { provider: 'STATIC', clusterName: `sim-${modelId}`, modelId, endpointUrl: sim.url, status: 'READY' } });
  }
  // A model limited to Bolt: Acme's keys must not learn that it exists.
  await world.prisma.servedModel.create({ data: { name: 'bolt/private', isPublic: false, access: { create: { organizationId: b.org.id } } } });
  await world.prisma.billingAccount.update({ where: { organizationId: a.org.id }, data: { balanceMicros: 1_000_000_000n } });
  api = await world.startApi({ USAGE_WRITER_ENABLED: 'true', RATE_LIMIT_DEFAULT_RPM: '1000', INFERENCE_NODE_REFRESH_MS: '200' });
  redis = new Redis(world.redis.url);
});

afterAll(async () => {
  await world?.close();
  await Promise.all((sims ?? []).map((s) => s.close()));
  redis?.disconnect();
});

interface KeyFields { id: string; dailyBudgetMicros: string | null; monthlyBudgetMicros: string | null; allowedModels: string[] }
const FIELDS = 'id dailyBudgetMicros monthlyBudgetMicros allowedModels';
const CREATE = `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { ${FIELDS} } } }`;
const UPDATE = `mutation($input: UpdateApiKeySpendControlsInput!) { updateApiKeySpendControls(input: $input) { ${FIELDS} } }`;

async function createKey(input: Record<string, unknown>, auth = a.ownerToken) {
  const r = await gql<{ createApiKey: { secret: string; apiKey: KeyFields } }>(api.url, CREATE, { input: { organizationId: a.org.id, name: 'budgeted', scopes: ['inference'], ...input } }, { auth });
  expect(r.errors).toBeUndefined();
  return { secret: r.data!.createApiKey.secret, ...r.data!.createApiKey.apiKey };
}
const update = (input: Record<string, unknown>, auth = a.ownerToken) => gql<{ updateApiKeySpendControls: KeyFields }>(api.url, UPDATE, { input }, { auth });

const client = (secret: string, maxRetries = 0) => new OpenAI({ apiKey: secret, baseURL: `${api.url}/v1`, maxRetries });
const chat = (c: OpenAI, extra: Record<string, unknown> = {}) =>
  c.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Hello there' }], max_tokens: MAX_TOKENS, ...extra });

/** What the usage records of a key cost, priced per request as the budget prices them. */
async function recordedSpend(keyId: string) {
  const records = await world.prisma.usageRecord.findMany({ where: { apiKeyId: keyId } });
  const cost = (r: { promptTokens: number; completionTokens: number }) =>
    Math.ceil((r.promptTokens * Number(PROMPT_PRICE) + r.completionTokens * Number(COMPLETION_PRICE)) / 1e6);
  return { records, micros: records.reduce((sum, r) => sum + cost(r), 0) };
}

describe('a daily budget under 50 concurrent requests', () => {
  it('admits requests while the day has budget left, then refuses with 429 insufficient_quota; spend passes the budget by less than one request', async () => {
    const budget = 20_000;
    const key = await createKey({ dailyBudgetMicros: String(budget) });
    // Retries allowed: x-should-retry: false must stop the SDK from sending a refused request again.
    const sdk = client(key.secret, 2);
    const results = await Promise.allSettled(Array.from({ length: 50 }, () => chat(sdk)));
    const ok = results.filter((r) => r.status === 'fulfilled');
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    expect(ok.length).toBeGreaterThan(0);
    expect(refused.length).toBeGreaterThan(0);
    for (const err of refused) {
      expect(err).toBeInstanceOf(RateLimitError);
      expect(err).toMatchObject({ status: 429, code: 'insufficient_quota', type: 'insufficient_quota' });
    }
    // One request's maximum: its prompt estimate (primer 2 + message overhead 4 + 2 words) and max_tokens.
    const maxRequestMicros = 8 * 100 + MAX_TOKENS * 200;
    // Every request reached the API once (none retried) and left one usage record.
    const { records, micros } = await eventually(async () => {
      const spent = await recordedSpend(key.id);
      return spent.records.length === 50 && spent;
    });
    expect(records.filter((r) => r.outcome === 'SUCCESS')).toHaveLength(ok.length);
    expect(micros).toBeLessThan(budget + maxRequestMicros);
    // Reservations were settled to the real cost: the day's counter is exactly what the records cost.
    const { dayKey, monthKey } = budgetWindows(world.redis.prefix, key.id, new Date());
    await eventually(async () => Number(await redis.get(dayKey)) === micros);
    expect(Number(await redis.get(monthKey))).toBe(micros);
    // In flight, each request held its maximum; settled, the rest of the budget is spent one request at a time.
    let more = 0;
    while (await chat(sdk).then(() => true, (err: unknown) => (err instanceof RateLimitError ? false : Promise.reject(err)))) more++;
    const total = await eventually(async () => {
      const spent = await recordedSpend(key.id);
      return spent.records.length === 50 + more + 1 && spent.micros;
    });
    expect(total).toBeGreaterThanOrEqual(budget);
    expect(total).toBeLessThan(budget + maxRequestMicros);
    console.log(`key budget ${budget} µ$: 50 concurrent requests, ${ok.length} admitted spending ${micros} µ$; then ${more} one by one: ${total} µ$ in all (overshoot ${total - budget} µ$; one request at most ${maxRequestMicros} µ$)`);
  });

  it("answers OpenAI's insufficient_quota body with x-should-retry: false", async () => {
    const key = await createKey({ monthlyBudgetMicros: '0' });
    const res = await postJson(`${api.url}/v1/chat/completions`, { model: MODEL, messages: [{ role: 'user', content: 'Hi' }], max_tokens: 2 }, key.secret);
    expect(res.status).toBe(429);
    expect(res.headers.get('x-should-retry')).toBe('false');
    expect(await res.json()).toEqual({
      error: {
        message: 'This API key has reached its monthly budget of $0.00; it resets on the 1st at 00:00 UTC. An admin can raise it in the dashboard under API keys.',
        type: 'insufficient_quota', param: null, code: 'insufficient_quota',
      },
    });
  });

  it('a budget raised through GraphQL applies at once', async () => {
    const key = await createKey({ dailyBudgetMicros: '0' });
    const sdk = client(key.secret);
    await expect(chat(sdk)).rejects.toBeInstanceOf(RateLimitError);
    expect((await update({ id: key.id, dailyBudgetMicros: '1000000' })).errors).toBeUndefined();
    await eventually(() => chat(sdk).then(() => true, () => false));
  });
});

describe('budget windows', () => {
  it('are UTC days and months: the next day starts from zero, the month keeps counting', async () => {
    let now = new Date('2026-03-31T23:59:59.000Z');
    const budgets = createKeyBudgets({ redis, prefix: `${world.redis.prefix}clock:`, log: pino({ level: 'silent' }), now: () => now });
    const limits = { dailyBudgetMicros: 1_000n, monthlyBudgetMicros: null };
    (await budgets.reserve('key_clock', limits, 1_500))!.settle(1_000);
    await budgets.drain();
    await expect(budgets.reserve('key_clock', limits, 1)).rejects.toMatchObject({ code: 'BUDGET_EXCEEDED', status: 429 });
    now = new Date('2026-04-01T00:00:01.000Z');
    expect(await budgets.reserve('key_clock', limits, 1)).not.toBeNull();
    const march = budgetWindows(`${world.redis.prefix}clock:`, 'key_clock', new Date('2026-03-31T23:59:59.000Z'));
    expect(march.dayKey).toBe(`${world.redis.prefix}clock:kb:{key_clock}:d:2026-03-31`);
    expect(march.monthKey).toBe(`${world.redis.prefix}clock:kb:{key_clock}:m:2026-03`);
    // A window lives one day past its end, so a request that started in it settles there.
    const ttl = await redis.pttl(march.dayKey);
    expect(ttl).toBeGreaterThan(86_400_000 - 60_000);
    expect(ttl).toBeLessThanOrEqual(86_400_000 + 1_000);
    const monthly = { dailyBudgetMicros: null, monthlyBudgetMicros: 1_000n };
    now = new Date('2026-04-30T12:00:00.000Z');
    (await budgets.reserve('key_month', monthly, 1_000))!.settle(1_000);
    now = new Date('2026-04-30T23:00:00.000Z');
    await expect(budgets.reserve('key_month', monthly, 1)).rejects.toMatchObject({ code: 'BUDGET_EXCEEDED' });
    now = new Date('2026-05-01T00:00:00.000Z');
    expect(await budgets.reserve('key_month', monthly, 1)).not.toBeNull();
  });
});

describe('allowed models', () => {
  it('a key limited to some models gets 404 model_not_found for others, with the body of a model that does not exist', async () => {
    const key = await createKey({ allowedModels: [MODEL] });
    const sdk = client(key.secret);
    expect((await chat(sdk)).choices).toHaveLength(1);
    const refusal = async (model: string) => {
      const err = await chat(sdk, { model }).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(NotFoundError);
      const { status, code, type, param, message } = err as NotFoundError;
      return { status, code, type, param, message: message.replace(model, '<model>') };
    };
    const other = await refusal(OTHER);
    expect(other).toMatchObject({ status: 404, code: 'model_not_found', param: 'model' });
    expect(other).toEqual(await refusal('no/such-model'));
    // Listed and retrieved: only the allowed models.
    await eventually(async () => (await sdk.models.list()).data.length > 0);
    expect((await sdk.models.list()).data.map((m) => m.id)).toEqual([MODEL]);
    await expect(sdk.models.retrieve(OTHER)).rejects.toBeInstanceOf(NotFoundError);
    // Opening the list to every model lets the other model through.
    expect((await update({ id: key.id, allowedModels: [] })).errors).toBeUndefined();
    await eventually(() => chat(sdk, { model: OTHER }).then(() => true, () => false));
    expect((await sdk.models.list()).data.map((m) => m.id)).toEqual(expect.arrayContaining([MODEL, OTHER, world.model.name]));
  });
});

describe('the OpenAI user field', () => {
  it('is recorded with each usage record and filters GraphQL usage', async () => {
    const key = await createKey({});
    const sdk = client(key.secret);
    await chat(sdk, { user: 'end-user-42' });
    await chat(sdk, { user: 'end-user-42' });
    await chat(sdk, { user: 'someone-else' });
    await chat(sdk);
    await eventually(async () => (await world.prisma.usageRecord.count({ where: { apiKeyId: key.id } })) === 4);
    const users = (await world.prisma.usageRecord.findMany({ where: { apiKeyId: key.id }, select: { user: true } })).map((r) => r.user ?? '(none)').sort();
    expect(users).toEqual(['(none)', 'end-user-42', 'end-user-42', 'someone-else']);
    const USAGE = 'query($id: ID!, $from: DateTime!, $user: String) { organization(id: $id) { usage(from: $from, user: $user) { totals { requests costMicros } } } }';
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const totals = async (user: string | undefined, auth = a.memberToken) =>
      (await gql<{ organization: { usage: { totals: { requests: string; costMicros: string } } } }>(api.url, USAGE, { id: a.org.id, from, user }, { auth }));
    expect((await totals('end-user-42')).data?.organization.usage.totals.requests).toBe('2');
    expect((await totals('someone-else')).data?.organization.usage.totals.requests).toBe('1');
    expect((await totals('nobody')).data?.organization.usage.totals).toEqual({ requests: '0', costMicros: '0' });
    expect((await totals('x'.repeat(257))).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    // Another tenant cannot read Acme's usage, filtered or not.
    expect((await totals('end-user-42', b.ownerToken)).data?.organization ?? null).toBeNull();
  });

  it('refuses a user that is not a string, or longer than 256 characters, as OpenAI does', async () => {
    const key = await createKey({});
    for (const user of [42, 'x'.repeat(257)]) {
      const res = await postJson(`${api.url}/v1/chat/completions`, { model: MODEL, messages: [{ role: 'user', content: 'Hi' }], user }, key.secret);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { param: string } }).error.param).toBe('user');
    }
  });
});

describe('updateApiKeySpendControls', () => {
  it('owners set budgets and models (audited with from/to); omitted fields stay; null removes a budget', async () => {
    const key = await createKey({ dailyBudgetMicros: '5000000' });
    const r = await update({ id: key.id, monthlyBudgetMicros: '100000000', allowedModels: [MODEL, MODEL] });
    expect(r.errors).toBeUndefined();
    expect(r.data?.updateApiKeySpendControls).toEqual({ id: key.id, dailyBudgetMicros: '5000000', monthlyBudgetMicros: '100000000', allowedModels: [MODEL] });
    const audit = await world.prisma.auditLog.findFirst({ where: { action: 'api_key.update_spend_controls', targetId: key.id } });
    expect(audit).toMatchObject({ actorType: 'USER', actorId: a.owner.id, organizationId: a.org.id });
    expect(audit?.metadata).toEqual({
      from: { dailyBudgetMicros: '5000000', monthlyBudgetMicros: null, allowedModels: [] },
      to: { dailyBudgetMicros: '5000000', monthlyBudgetMicros: '100000000', allowedModels: [MODEL] },
    });
    const cleared = await update({ id: key.id, dailyBudgetMicros: null });
    expect(cleared.data?.updateApiKeySpendControls).toMatchObject({ dailyBudgetMicros: null, monthlyBudgetMicros: '100000000', allowedModels: [MODEL] });
  });

  it('refuses negative or huge budgets and models the organization cannot call (the same words for one limited to another)', async () => {
    const key = await createKey({});
    const code = async (input: Record<string, unknown>) => (await update({ id: key.id, ...input })).errors?.[0];
    expect((await code({ dailyBudgetMicros: '-1' }))?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await code({ monthlyBudgetMicros: '1000000000000001' }))?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await code({ dailyBudgetMicros: 'ten dollars' }))?.extensions?.code).toBe('BAD_USER_INPUT');
    const unknown = await code({ allowedModels: ['no/such-model'] });
    expect(unknown?.extensions?.code).toBe('BAD_USER_INPUT');
    const limited = await code({ allowedModels: ['bolt/private'] });
    expect(limited?.message.replace('bolt/private', '<m>')).toBe(unknown?.message.replace('no/such-model', '<m>'));
    const create = await gql(api.url, CREATE, { input: { organizationId: a.org.id, name: 'bad', dailyBudgetMicros: '-5' } }, { auth: a.ownerToken });
    expect(create.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(await world.prisma.apiKey.findUniqueOrThrow({ where: { id: key.id } })).toMatchObject({ dailyBudgetMicros: null, monthlyBudgetMicros: null, allowedModels: [] });
  });

  it('members may read but not set them; another tenant gets NOT_FOUND; nothing changes', async () => {
    const key = await createKey({ dailyBudgetMicros: '1000' });
    expect((await update({ id: key.id, dailyBudgetMicros: null }, a.memberToken)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await update({ id: key.id, dailyBudgetMicros: null }, b.ownerToken)).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((await gql(api.url, UPDATE, { input: { id: key.id, dailyBudgetMicros: null } })).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const read = await gql<{ node: KeyFields }>(api.url, `query($id: ID!) { node(id: $id) { ... on ApiKey { ${FIELDS} } } }`, { id: key.id }, { auth: a.memberToken });
    expect(read.data?.node).toMatchObject({ dailyBudgetMicros: '1000', allowedModels: [] });
    expect((await world.prisma.apiKey.findUniqueOrThrow({ where: { id: key.id } })).dailyBudgetMicros).toBe(1000n);
  });
});
