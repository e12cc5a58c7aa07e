// CORS on /v1: browsers at the configured origins may call it and read the headers clients need; other
// origins get no CORS header at all, and credentials are never allowed.
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '@cic/vllm-sim';
import { createInferenceWorld, type InferenceWorld, MODEL, startSim } from './inference-fixture.ts';

const APP = 'https://app.example.com';
let world: InferenceWorld;
let sim: Simulator;
let baseURL: string;
let key: string;

beforeAll(async () => {
  world = await createInferenceWorld();
  sim = await startSim();
  await world.addNode(sim.url);
  key = (await world.createKey()).secret;
  baseURL = (await world.startApi({ env: { INFERENCE_CORS_ORIGINS: `${APP}, http://localhost:5173` } })).baseURL;
  const client = new OpenAI({ apiKey: key, baseURL, maxRetries: 0 });
  await world.eventually(async () => (await client.models.list()).data.length > 0 || null);
});

afterAll(async () => {
  await world?.close();
  await sim?.close();
});

const preflight = (path: string, origin: string, headers = 'authorization, content-type, x-stainless-os') => fetch(`${baseURL}${path}`, {
  method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': headers },
});
const corsHeaders = (res: Response): Record<string, string> =>
  Object.fromEntries([...res.headers].filter(([name]) => name.startsWith('access-control-')));

describe('CORS on /v1', () => {
  it('answers a preflight from a configured origin with what the browser needs, never credentials', async () => {
    const res = await preflight('/chat/completions', APP);
    expect(res.status).toBe(204);
    expect(corsHeaders(res)).toEqual({
      'access-control-allow-origin': APP,
      'access-control-allow-methods': 'GET, POST',
      'access-control-allow-headers': 'authorization, content-type, x-stainless-os',
      'access-control-max-age': '600',
    });
    expect(res.headers.get('vary')).toContain('Origin');
  });

  it('gives a non-configured origin no CORS header: its preflight is an ordinary OPTIONS (405)', async () => {
    const res = await preflight('/chat/completions', 'https://evil.example.com');
    expect(res.status).toBe(405);
    expect(corsHeaders(res)).toEqual({});
    const call = await fetch(`${baseURL}/models`, { headers: { origin: 'https://evil.example.com', authorization: `Bearer ${key}` } });
    expect(call.status).toBe(200);
    expect(corsHeaders(call)).toEqual({});
  });

  it('does not echo malformed requested headers', async () => {
    const res = await preflight('/chat/completions', APP, 'authorization, bad header(1)');
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-headers')).toBeNull();
  });

  it('exposes the request id and rate-limit headers on answers, errors and streams alike', async () => {
    const expose = (res: Response): string[] => (res.headers.get('access-control-expose-headers') ?? '').split(', ');
    const ok = await fetch(`${baseURL}/chat/completions`, {
      method: 'POST', headers: { origin: APP, authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'Hi' }], stream: true }),
    });
    expect(ok.status).toBe(200);
    await ok.text();
    expect(ok.headers.get('access-control-allow-origin')).toBe(APP);
    expect(ok.headers.get('access-control-allow-credentials')).toBeNull();
    expect(expose(ok)).toEqual(expect.arrayContaining(['x-request-id', 'retry-after', 'x-ratelimit-remaining-requests', 'x-ratelimit-reset-tokens']));
    const unauthenticated = await fetch(`${baseURL}/models`, { headers: { origin: 'http://localhost:5173' } });
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    const unknown = await fetch(`${baseURL}/nope`, { headers: { origin: APP } });
    expect(unknown.status).toBe(404);
    expect(expose(unknown)).toContain('x-request-id');
  });

  it('leaves routes outside /v1 alone', async () => {
    const res = await fetch(`${baseURL.replace(/\/v1$/, '')}/healthz`, { headers: { origin: APP } });
    expect(corsHeaders(res)).toEqual({});
  });
});
