import { Redis } from 'ioredis';
import OpenAI, { APIError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis } from '../../../scripts/lib/redis.mjs';
import { AppError } from '@cic/core/errors';
import type { Simulator } from '@cic/vllm-sim';
import { killSubscriber } from '../helpers/kill-subscriber.ts';
import { createInferenceWorld, type InferenceWorld, MODEL, postJson, startSim } from './inference-fixture.ts';

let world: InferenceWorld;
let sim: Simulator;
let a: Awaited<ReturnType<InferenceWorld['startApi']>>;
let b: Awaited<ReturnType<InferenceWorld['startApi']>>;
const messages = [{ role: 'user', content: 'Hi' }];

beforeAll(async () => {
  world = await createInferenceWorld();
  sim = await startSim({ outputTokens: 1 });
  await world.addNode(sim.url);
  // A generous limiter timeout: these tests prove atomic admission, not failing open on a slow Redis
  // (this machine is shared, and a late answer would otherwise admit a request uncounted).
  const env = { RATE_LIMIT_TIMEOUT_MS: '2000' };
  [a, b] = await Promise.all([world.startApi({ env }), world.startApi({ env })]);
});

afterAll(async () => {
  await world?.close();
  await sim?.close();
});

/**
 * Waits until both instances' writers inserted every record queued so far: a sentinel request through
 * each is in Postgres (each instance queues its records in order) and the usage stream is empty (the
 * writers delete an entry once its row is committed).
 */
async function flushed(): Promise<void> {
  const sentinel = await world.createKey();
  for (const api of [a, b]) await (await postJson(`${api.baseURL}/chat/completions`, { model: MODEL, messages, max_tokens: 1 }, sentinel.secret)).text();
  await world.eventually(async () => (await world.prisma.usageRecord.count({ where: { apiKeyId: sentinel.id } })) === 2 && (await a.redis.xlen(`${world.redis.prefix}usage`)) === 0);
}

const WINDOW_MS = 60_000;
/** The Redis counters of a key's two windows. */
const counters = (keyId: string) => ({ requests: `${world.redis.prefix}rl:{${keyId}}:r`, tokens: `${world.redis.prefix}rl:{${keyId}}:t` });
const seconds = (header: string | null): number => {
  expect(header).toMatch(/^\d+s$/);
  return Number(header!.slice(0, -1));
};

async function send(api: typeof a, secret: string, extra: Record<string, unknown> = {}) {
  const res = await postJson(`${api.baseURL}/chat/completions`, { model: MODEL, messages, max_tokens: 1, ...extra }, secret);
  const body = (await res.json()) as { usage?: { total_tokens: number }; error?: { code: string; message: string } };
  return { res, body };
}

describe('rate limits shared by two API instances', () => {
  it('admits the RPM limit across both instances, not twice it', async () => {
    const limit = 150;
    const key = await world.createKey({ rpmLimit: limit });
    const statuses: number[] = [];
    const total = 240;
    let next = 0;
    await Promise.all(Array.from({ length: 16 }, async (_, worker) => {
      while (next < total) {
        next++;
        const api = worker % 2 === 0 ? a : b;
        const res = await postJson(`${api.baseURL}/chat/completions`, { model: MODEL, messages, max_tokens: 1 }, key.secret);
        await res.text();
        statuses.push(res.status);
      }
    }));
    const admitted = statuses.filter((s) => s === 200).length;
    const failedOpen = (await a.inference.metrics.rateLimitFailOpen.get()).values[0]?.value ?? 0;
    expect(Math.abs(admitted - limit), `admitted ${admitted}, failed open ${failedOpen}`).toBeLessThanOrEqual(limit * 0.02);
    expect(statuses.filter((s) => s !== 200 && s !== 429)).toEqual([]);
  });

  it('aborts an early-dispatched request that the limiter then refuses, and does not meter it', async () => {
    const model = 'limits/slow';
    const m = await world.addModel(model);
    const slow = await startSim({ model, ttftMs: 300, ttftSpreadMs: 0 });
    try {
      await world.addNode(slow.url, { modelId: m.id });
      await world.eventually(async () => a.inference.nodes.nodesFor(model).length > 0 && b.inference.nodes.nodesFor(model).length > 0);
      const key = await world.createKey({ rpmLimit: 20 });
      // Instance a learns the key is far from its limit (19 left, for a second); another instance then uses
      // up the window (written here as its script would: a second of requests through b is not a second on
      // a loaded machine, and a's hint would be stale by then).
      expect((await postJson(`${a.baseURL}/chat/completions`, { model, messages, max_tokens: 1 }, key.secret)).status).toBe(200);
      await a.redis.set(`${world.redis.prefix}rl:{${key.id}}:r`, '20', 'KEEPTTL');
      const refused = await postJson(`${a.baseURL}/chat/completions`, { model, messages, max_tokens: 1 }, key.secret);
      expect(refused.status).toBe(429);
      // Dispatched early, it was cancelled at the node (or the verdict came first and it never left): the node
      // finished only the admitted request.
      await world.eventually(async () => slow.stats.requests === slow.stats.completed + slow.stats.aborted);
      expect(slow.stats.completed).toBe(1);
      await flushed();
      // One record, the admitted request's: the refused one left none, not even a late one.
      expect(await world.prisma.usageRecord.count({ where: { apiKeyId: key.id } })).toBe(1);
    } finally {
      await slow.close();
    }
  });

  it('reserves max_tokens up front and gives back what was not used', async () => {
    const key = await world.createKey({ tpmLimit: 10_000 });
    const res = await postJson(`${a.baseURL}/chat/completions`, { model: MODEL, messages, max_tokens: 1000 }, key.secret);
    const body = (await res.json()) as { usage: { total_tokens: number } };
    const remainingAtAdmission = Number(res.headers.get('x-ratelimit-remaining-tokens'));
    expect(remainingAtAdmission).toBeLessThanOrEqual(10_000 - 1000);
    const counter = `${world.redis.prefix}rl:{${key.id}}:t`;
    const used = await world.eventually(async () => {
      const v = Number(await a.redis.get(counter));
      return v === body.usage.total_tokens ? v : null;
    });
    expect(used).toBe(body.usage.total_tokens);
  });

  it('sends all six rate-limit headers on success and on errors after authentication', async () => {
    const key = await world.createKey();
    const ok = await postJson(`${a.baseURL}/chat/completions`, { model: MODEL, messages }, key.secret);
    const missing = await postJson(`${a.baseURL}/chat/completions`, { model: 'nope', messages }, key.secret);
    for (const res of [ok, missing]) {
      for (const kind of ['requests', 'tokens']) {
        for (const h of ['limit', 'remaining', 'reset']) expect(res.headers.get(`x-ratelimit-${h}-${kind}`), `${h}-${kind}`).toMatch(/^\d+s?$/);
      }
    }
    expect(ok.headers.get('x-ratelimit-limit-requests')).toBe('600');
    expect(ok.headers.get('x-ratelimit-reset-requests')).toMatch(/^\d+s$/);
  });

  it('shares the token budget: b refuses once a used it up, and admits what still fits', async () => {
    const tpm = 2_000;
    const key = await world.createKey({ tpmLimit: tpm });
    const { tokens } = counters(key.id);
    // A long prompt (this node answers with one token).
    const big = await send(a, key.secret, { messages: [{ role: 'user', content: 'word '.repeat(600) }], max_tokens: 10 });
    expect(big.res.status).toBe(200);
    const used = big.body.usage!.total_tokens;
    expect(used).toBeGreaterThan(tpm / 4);
    // The reservation is corrected to the real usage (in the usage record's pipeline).
    await world.eventually(async () => Number(await a.redis.get(tokens)) === used);

    // On b, which has never seen this key: a request that would fit an empty window but not what is left.
    const tooMuch = await send(b, key.secret, { max_tokens: tpm - used + 1 });
    expect(tooMuch.res.status).toBe(429);
    expect(tooMuch.body.error?.message).toContain('tokens per minute');
    expect(Number(tooMuch.res.headers.get('x-ratelimit-remaining-tokens'))).toBe(tpm - used);
    expect(Number(tooMuch.res.headers.get('retry-after'))).toBeLessThanOrEqual(WINDOW_MS / 1000);

    const fits = await send(b, key.secret, { max_tokens: tpm - used - 50 });
    expect(fits.res.status).toBe(200);
    expect(Number(fits.res.headers.get('x-ratelimit-remaining-tokens'))).toBeLessThan(50);
  });
});

// Windows last a fixed minute: the tests read and shorten their TTLs in Redis instead of waiting.
describe('rate-limit windows', () => {
  it('opens a one-minute window on both counters with the first request, and the reset headers read its remaining time', async () => {
    const key = await world.createKey();
    const { requests, tokens } = counters(key.id);
    const first = await send(a, key.secret);
    expect(first.res.status).toBe(200);
    expect(seconds(first.res.headers.get('x-ratelimit-reset-requests'))).toBe(WINDOW_MS / 1000);
    for (const counter of [requests, tokens]) {
      const ttl = await a.redis.pttl(counter);
      expect(ttl, counter).toBeGreaterThan(0); // -1 would be a window that never ends
      expect(ttl, counter).toBeLessThanOrEqual(WINDOW_MS);
    }
    // 4.5 s of the window left: the headers say 5s (or less, as time passes), never a fresh minute.
    await Promise.all([a.redis.pexpire(requests, 4_500), a.redis.pexpire(tokens, 4_500)]);
    const second = await send(a, key.secret);
    expect(second.res.status).toBe(200);
    const [requestsLeft, tokensLeft] = await Promise.all([a.redis.pttl(requests), a.redis.pttl(tokens)]);
    const resetRequests = seconds(second.res.headers.get('x-ratelimit-reset-requests'));
    const resetTokens = seconds(second.res.headers.get('x-ratelimit-reset-tokens'));
    expect(resetRequests).toBeLessThanOrEqual(5);
    expect(resetRequests).toBeGreaterThanOrEqual(Math.ceil(requestsLeft / 1000));
    expect(resetTokens).toBeLessThanOrEqual(5);
    expect(resetTokens).toBeGreaterThanOrEqual(Math.ceil(tokensLeft / 1000));
    // Later requests do not extend the window.
    expect(requestsLeft).toBeLessThanOrEqual(4_500);
  });

  it('refuses a key over its RPM until the window ends, then admits it in a new window', async () => {
    const key = await world.createKey({ rpmLimit: 2 });
    const { requests } = counters(key.id);
    for (let i = 0; i < 2; i++) expect((await send(a, key.secret)).res.status).toBe(200);
    const refused = await send(b, key.secret);
    expect(refused.res.status).toBe(429);
    const ttl = await a.redis.pttl(requests);
    expect(ttl).toBeGreaterThan(0);
    const retryAfter = Number(refused.res.headers.get('retry-after'));
    expect(retryAfter).toBe(seconds(refused.res.headers.get('x-ratelimit-reset-requests')));
    expect(retryAfter).toBeGreaterThanOrEqual(Math.ceil(ttl / 1000));
    expect(retryAfter).toBeLessThanOrEqual(WINDOW_MS / 1000);

    // The window runs out (its last 200 ms, instead of the whole minute).
    await a.redis.pexpire(requests, 200);
    await world.eventually(async () => (await a.redis.exists(requests)) === 0);
    const again = await send(b, key.secret);
    expect(again.res.status).toBe(200);
    expect(again.res.headers.get('x-ratelimit-remaining-requests')).toBe('1');
    const fresh = await a.redis.pttl(requests);
    expect(fresh).toBeGreaterThan(0);
    expect(fresh).toBeLessThanOrEqual(WINDOW_MS);
  });
});

describe('credits and keys', () => {
  it('answers 402 insufficient_quota when the credit gate refuses, without calling a node', async () => {
    const refusing = await world.startApi({
      creditGate: { assertCanSpend: () => { throw new AppError('INSUFFICIENT_QUOTA', 'Your organization has no credits left.', { detail: 'insufficient_quota' }); } },
    });
    const key = await world.createKey();
    const before = sim.stats.requests;
    const client = new OpenAI({ apiKey: key.secret, baseURL: refusing.baseURL, maxRetries: 0 });
    const err = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'Hi' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(APIError);
    expect((err as APIError).status).toBe(402);
    expect((err as APIError).code).toBe('insufficient_quota');
    expect((err as APIError).type).toBe('insufficient_quota');
    expect(sim.stats.requests).toBe(before);
  });

  it('refuses a key revoked elsewhere within a second on another instance', async () => {
    const key = await world.createKey();
    for (const api of [a, b]) expect((await postJson(`${api.baseURL}/chat/completions`, { model: MODEL, messages }, key.secret)).status).toBe(200);
    await world.prisma.apiKey.update({ where: { id: key.id }, data: { revokedAt: new Date() } });
    await a.bus.publish('apiKeyChanged', { keyId: key.id, prefix: key.prefix });
    await world.eventually(async () => (await postJson(`${b.baseURL}/chat/completions`, { model: MODEL, messages }, key.secret)).status === 401, 1_000);
  });

  it('does not keep serving a key revoked while its pub/sub connection was down', async () => {
    const key = await world.createKey();
    expect((await postJson(`${b.baseURL}/chat/completions`, { model: MODEL, messages }, key.secret)).status).toBe(200);
    // Revoked without an apiKeyChanged reaching b (as if published while b's connection was away).
    await world.prisma.apiKey.update({ where: { id: key.id }, data: { revokedAt: new Date() } });
    expect((await postJson(`${b.baseURL}/chat/completions`, { model: MODEL, messages }, key.secret)).status).toBe(200); // cached
    await killSubscriber(b.redis, b.bus);
    expect((await postJson(`${b.baseURL}/chat/completions`, { model: MODEL, messages }, key.secret)).status).toBe(401);
  });

  it('answers 401 in OpenAI shape without a key or with a malformed header', async () => {
    for (const headers of [{}, { authorization: 'Basic abc' }, { authorization: 'Bearer not-a-key' }] as Record<string, string>[]) {
      const res = await fetch(`${a.baseURL}/models`, { headers });
      expect(res.status).toBe(401);
      const body = (await res.json()) as { error: { type: string; code: string } };
      expect(body.error.type).toBe('authentication_error');
    }
  });
});

describe('when Redis is down', () => {
  it('fails open: requests are served, counted in cic_ratelimit_failopen_total, and still metered', async () => {
    const redis = await startRedis();
    const api = await world.startApi({ redisUrl: redis.url });
    const key = await world.createKey({ rpmLimit: 1 });
    expect((await postJson(`${api.baseURL}/chat/completions`, { model: MODEL, messages }, key.secret)).status).toBe(200);
    await redis.stop();
    await world.eventually(async () => api.redis.status !== 'ready');
    const res = await postJson(`${api.baseURL}/chat/completions`, { model: MODEL, messages }, key.secret);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-ratelimit-limit-requests')).toBe('1');
    expect((await api.inference.metrics.rateLimitFailOpen.get()).values[0]?.value).toBeGreaterThanOrEqual(1);
    const records = await world.eventually(async () => {
      const r = await world.prisma.usageRecord.findMany({ where: { apiKeyId: key.id } });
      return r.length === 2 ? r : null;
    });
    expect(records.every((r) => r.outcome === 'SUCCESS')).toBe(true);
    await api.stop();
  });
});

describe('when Redis hangs', () => {
  it('fails open after RATE_LIMIT_TIMEOUT_MS instead of holding the request', async () => {
    const redis = await startRedis();
    const api = await world.startApi({ redisUrl: redis.url, env: { RATE_LIMIT_TIMEOUT_MS: '200' } });
    const admin = new Redis(redis.url);
    try {
      const key = await world.createKey();
      expect((await postJson(`${api.baseURL}/chat/completions`, { model: MODEL, messages }, key.secret)).status).toBe(200);
      await admin.call('CLIENT', 'PAUSE', '3000', 'ALL');
      const res = await postJson(`${api.baseURL}/chat/completions`, { model: MODEL, messages }, key.secret);
      expect(res.status).toBe(200);
      expect((await api.inference.metrics.rateLimitFailOpen.get()).values[0]?.value).toBeGreaterThanOrEqual(1);
      await admin.call('CLIENT', 'UNPAUSE');
      await world.eventually(async () => (await world.prisma.usageRecord.count({ where: { apiKeyId: key.id } })) === 2);
    } finally {
      admin.disconnect();
      await api.stop();
      await redis.stop();
    }
  });
});

describe('usageUpdated events', () => {
  it('publishes the organization usage after metering, on the channel with the deployment prefix', async () => {
    const sub = new Redis(world.redis.url);
    const got: unknown[] = [];
    sub.on('message', (_c: string, m: string) => got.push(JSON.parse(m)));
    await sub.subscribe(`${world.redis.prefix}usageUpdated:${world.org.id}`);
    const key = await world.createKey();
    await (await postJson(`${a.baseURL}/chat/completions`, { model: MODEL, messages }, key.secret)).text();
    await world.eventually(async () => got.length > 0);
    expect(got[0]).toMatchObject({ organizationId: world.org.id });
    sub.disconnect();
  });
});
