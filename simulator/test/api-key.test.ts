import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { parseCliOptions } from '../src/cli-args.ts';
import type { Simulator } from '../src/server.ts';
import { postJson, startSimulator } from './helpers.ts';

const KEY = 'node-secret-0123456789';
const CHAT = { model: 'cic-sim/echo-1', messages: [{ role: 'user', content: 'hi' }], max_tokens: 3 };
let sim: Simulator;
afterEach(() => sim.close());

const bearer = (value: string) => ({ headers: { 'content-type': 'application/json', authorization: value } });

describe('--api-key, as vLLM enforces it', () => {
  it('answers 401 {"error":"Unauthorized"} on /v1 without the key, a wrong key or another scheme', async () => {
    sim = await startSimulator({ apiKey: KEY });
    for (const init of [{}, bearer(`Bearer ${KEY}x`), bearer(`Basic ${KEY}`), bearer(KEY), bearer('Bearer')]) {
      const response = await postJson(`${sim.url}/v1/chat/completions`, CHAT, init);
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({ error: 'Unauthorized' });
    }
    expect((await fetch(`${sim.url}/v1/models`)).status).toBe(401);
    // Before routing, like vLLM's middleware: an unknown /v1 path is refused, not reported missing.
    expect((await fetch(`${sim.url}/v1/no-such-route`)).status).toBe(401);
    expect(sim.stats.requests).toBe(0);
  });

  it('serves with the key (scheme in any case), through the openai SDK too', async () => {
    sim = await startSimulator({ apiKey: KEY });
    expect((await postJson(`${sim.url}/v1/chat/completions`, CHAT, bearer(`Bearer ${KEY}`))).status).toBe(200);
    expect((await postJson(`${sim.url}/v1/chat/completions`, CHAT, bearer(`bearer ${KEY}`))).status).toBe(200);
    const client = new OpenAI({ apiKey: KEY, baseURL: `${sim.url}/v1`, maxRetries: 0 });
    expect((await client.models.list()).data.map((m) => m.id)).toEqual(['cic-sim/echo-1']);
    const wrong = new OpenAI({ apiKey: 'nope', baseURL: `${sim.url}/v1`, maxRetries: 0 });
    await expect(wrong.models.list()).rejects.toMatchObject({ status: 401 });
  });

  it('leaves /health and /metrics open, as vLLM does', async () => {
    sim = await startSimulator({ apiKey: KEY });
    expect((await fetch(`${sim.url}/health`)).status).toBe(200);
    const metrics = await fetch(`${sim.url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('vllm:num_requests_running');
  });

  it('comes from --api-key or VLLM_API_KEY (the flag wins; empty means none)', () => {
    expect(parseCliOptions(['--api-key', 'a']).apiKey).toBe('a');
    expect(parseCliOptions([], { VLLM_API_KEY: 'b' }).apiKey).toBe('b');
    expect(parseCliOptions(['--api-key', 'a'], { VLLM_API_KEY: 'b' }).apiKey).toBe('a');
    expect(parseCliOptions([], { VLLM_API_KEY: '' }).apiKey).toBeUndefined();
    expect(parseCliOptions([], { SIM_API_KEY: 'c' }).apiKey).toBeUndefined();
  });
});

describe('/_sim control routes', () => {
  it('are off unless enabled: 404 like any unknown path', async () => {
    sim = await startSimulator();
    for (const path of ['failure', 'kill', 'revive']) expect((await fetch(`${sim.url}/_sim/${path}`, { method: 'POST' })).status).toBe(404);
    expect((await fetch(`${sim.url}/_sim/stats`)).status).toBe(404);
    expect((await fetch(`${sim.url}/health`)).status).toBe(200); // the kill above did nothing
    expect(parseCliOptions([]).enableControlRoutes).toBe(false);
    expect(parseCliOptions(['--enable-control-routes']).enableControlRoutes).toBe(true);
  });

  it('need the key when the simulator has one', async () => {
    sim = await startSimulator({ apiKey: KEY, enableControlRoutes: true });
    expect((await fetch(`${sim.url}/_sim/kill`, { method: 'POST' })).status).toBe(401);
    expect((await fetch(`${sim.url}/health`)).status).toBe(200);
    expect((await fetch(`${sim.url}/_sim/kill`, { method: 'POST', headers: { authorization: `Bearer ${KEY}` } })).status).toBe(200);
    expect((await fetch(`${sim.url}/health`)).status).toBe(503);
  });
});
