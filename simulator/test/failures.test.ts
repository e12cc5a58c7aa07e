import { afterEach, describe, expect, it } from 'vitest';
import type { Simulator } from '../src/server.ts';
import { holdingChat, jsonOf, postJson, readSse, startSimulator, waitFor } from './helpers.ts';

const MESSAGES = [{ role: 'user', content: 'one two three four five six' }];
let sim: Simulator;
afterEach(() => sim.close());

const chat = (extra: Record<string, unknown> = {}) =>
  postJson(`${sim.url}/v1/chat/completions`, { messages: MESSAGES, ...extra });

describe('failure injection', () => {
  it.each([
    ['rate_limit', 429, 'RateLimitError'],
    ['server_error', 500, 'InternalServerError'],
    ['context_length', 400, 'BadRequestError'],
    ['model_not_found', 404, 'NotFoundError'],
  ] as const)('%s answers %i %s', async (type, status, errorType) => {
    sim = await startSimulator({ failureRate: 1, failureTypes: [type] });
    for (const stream of [false, true]) {
      const response = await chat({ stream });
      expect(response.status).toBe(status);
      expect(response.headers.get('x-sim-failure')).toBe(type);
      expect((await jsonOf(response)).error).toMatchObject({ type: errorType, code: status });
    }
    expect(sim.stats).toMatchObject({ requests: 2, failed: 2, completed: 0 });
  });

  it('names the requested model in an injected 404 and the window in an injected 400', async () => {
    sim = await startSimulator({ failureRate: 1, failureTypes: ['model_not_found'], model: 'm/one' });
    expect((await jsonOf(await chat())).error.message).toBe('The model `m/one` does not exist.');
    sim.setFailure({ rate: 1, types: ['context_length'] });
    expect((await jsonOf(await chat())).error.message).toContain('maximum context length is 4096 tokens');
  });

  it('stream_cut drops the connection after a few tokens, without usage or [DONE]', async () => {
    sim = await startSimulator({ failureRate: 1, failureTypes: ['stream_cut'] });
    const response = await chat({ stream: true, stream_options: { include_usage: true } });
    expect(response.status).toBe(200);
    const { data, events, done, error } = await readSse(response);
    expect(error).toBeDefined();
    expect(done).toBe(false);
    expect(data).not.toContain('[DONE]');
    expect(events.some((event) => 'usage' in event)).toBe(false);
    expect(events).toHaveLength(1 + 3);
    await waitFor('the cut to be counted', () => sim.stats.cut === 1);
    expect(sim.stats).toMatchObject({ aborted: 0, completed: 0, running: 0 });
  });

  it('never cuts a non-streamed request', async () => {
    sim = await startSimulator({ failureRate: 1, failureTypes: ['stream_cut'] });
    expect((await chat()).status).toBe(200);
  });

  it('fails about failure-rate of requests, reproducibly for a seed', async () => {
    const statuses: number[][] = [];
    for (let run = 0; run < 2; run++) {
      sim = await startSimulator({ failureRate: 0.5, failureTypes: ['server_error'], seed: 1234, ttftMs: 0, itlMs: 0 });
      const seen: number[] = [];
      for (let i = 0; i < 40; i++) seen.push((await chat({ max_tokens: 1 })).status);
      statuses.push(seen);
      await sim.close();
    }
    sim = await startSimulator();
    expect(statuses[0]).toEqual(statuses[1]);
    const failed = statuses[0]!.filter((status) => status === 500).length;
    expect(failed).toBeGreaterThan(5);
    expect(failed).toBeLessThan(35);
  });
});

describe('engine death', () => {
  it('turns /health and completions to 503 until revived', async () => {
    sim = await startSimulator();
    sim.killEngine();
    expect((await fetch(`${sim.url}/health`)).status).toBe(503);
    const response = await chat();
    expect(response.status).toBe(503);
    expect((await jsonOf(response)).error).toMatchObject({ type: 'ServiceUnavailableError', code: 503 });
    sim.reviveEngine();
    expect((await fetch(`${sim.url}/health`)).status).toBe(200);
    expect((await chat()).status).toBe(200);
  });

  it('ends an in-flight stream with an error event', async () => {
    sim = await startSimulator({ ttftMs: 0, itlMs: 20 });
    const response = await postJson(`${sim.url}/v1/chat/completions`, { ...holdingChat(), stream: true });
    const read = readSse(response, (data) => {
      if (data.includes('"content":"hold"')) sim.killEngine();
    });
    const { events, done } = await read;
    expect(events.at(-1)).toEqual({
      error: expect.objectContaining({ type: 'ServiceUnavailableError', code: 503 }),
    });
    expect(done).toBe(true);
    expect(sim.stats.running).toBe(0);
  });
});

describe('/_sim control routes', () => {
  it('steer failures, the engine and report stats over HTTP', async () => {
    sim = await startSimulator({ enableControlRoutes: true });
    const control = (path: string, body?: unknown) =>
      body === undefined ? fetch(`${sim.url}/_sim/${path}`, { method: 'POST' }) : postJson(`${sim.url}/_sim/${path}`, body);

    expect(await jsonOf(await control('failure', { rate: 1, types: ['rate_limit'] }))).toEqual({
      rate: 1,
      types: ['rate_limit'],
    });
    expect((await chat()).status).toBe(429);
    expect((await control('failure', { rate: 2 })).status).toBe(400);
    await control('failure', { rate: 0 });
    expect((await chat()).status).toBe(200);

    await control('kill');
    expect((await fetch(`${sim.url}/health`)).status).toBe(503);
    await control('revive');
    expect((await fetch(`${sim.url}/health`)).status).toBe(200);

    const stats = await jsonOf(await fetch(`${sim.url}/_sim/stats`));
    expect(stats).toEqual({ requests: 2, completed: 1, aborted: 0, cut: 0, failed: 1, rejected: 0, running: 0, waiting: 0 });
  });
});
