import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '@cic/vllm-sim';
import { createInferenceWorld, type InferenceWorld, MODEL, postJson, startSim } from './inference-fixture.ts';

/*
 * Issue 13, item 9: rate-limit windows end, the reset headers say when, and the token limit is one
 * budget for every API instance sharing Redis. Windows last a fixed minute, so the test reads and
 * shortens their TTLs in Redis instead of waiting for them.
 */

const WINDOW_MS = 60_000;
let world: InferenceWorld;
let sim: Simulator;
let a: Awaited<ReturnType<InferenceWorld['startApi']>>;
let b: Awaited<ReturnType<InferenceWorld['startApi']>>;

const counters = (keyId: string) => ({ requests: `${world.redis.prefix}rl:{${keyId}}:r`, tokens: `${world.redis.prefix}rl:{${keyId}}:t` });
const seconds = (header: string | null): number => {
  expect(header).toMatch(/^\d+s$/);
  return Number(header!.slice(0, -1));
};
const chat = (extra: Record<string, unknown> = {}) => ({ model: MODEL, messages: [{ role: 'user', content: 'Hi' }], max_tokens: 1, ...extra });

async function send(api: typeof a, secret: string, extra: Record<string, unknown> = {}) {
  const res = await postJson(`${api.baseURL}/chat/completions`, chat(extra), secret);
  const body = (await res.json()) as { usage?: { total_tokens: number }; error?: { code: string; message: string } };
  return { res, body };
}

beforeAll(async () => {
  world = await createInferenceWorld();
  sim = await startSim();
  await world.addNode(sim.url);
  // A generous limiter timeout: these tests prove what the script does, not failing open on a slow Redis.
  const env = { RATE_LIMIT_TIMEOUT_MS: '2000' };
  [a, b] = await Promise.all([world.startApi({ env }), world.startApi({ env })]);
});

afterAll(async () => {
  await world?.close();
  await sim?.close();
});

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

describe('the token limit across two API instances', () => {
  it('refuses on the second instance once the first used up the budget, and admits what still fits', async () => {
    const tpm = 2_000;
    const key = await world.createKey({ tpmLimit: tpm });
    const { tokens } = counters(key.id);
    // The echo model answers with the prompt: a few hundred tokens each way.
    const big = await send(a, key.secret, { messages: [{ role: 'user', content: 'word '.repeat(400) }], max_tokens: 600 });
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
