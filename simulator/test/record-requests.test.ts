import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCliOptions } from '../src/cli-args.ts';
import type { RecordedRequest } from '../src/request-recorder.ts';
import type { Simulator } from '../src/server.ts';
import { postJson, startSimulator } from './helpers.ts';

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ enableControlRoutes: true, recordRequests: true });
});
afterAll(() => sim.close());

const recorded = async (): Promise<RecordedRequest[]> =>
  ((await (await fetch(`${sim.url}/_sim/requests`)).json()) as { requests: RecordedRequest[] }).requests;

describe('--record-requests', () => {
  it('reports the exact body bytes received, numbers beyond 2^53 and whitespace included', async () => {
    await fetch(`${sim.url}/_sim/requests`, { method: 'DELETE' });
    const raw = '{ "messages":[{"role":"user","content":"héllo"}],\n  "seed": 12345678901234567890, "max_tokens":1}';
    const response = await postJson(`${sim.url}/v1/chat/completions`, raw, { headers: { 'content-type': 'application/json', 'x-trace': 't1' } });
    expect(response.status).toBe(200);
    const badJson = '{"messages": [';
    expect((await postJson(`${sim.url}/v1/completions`, badJson)).status).toBe(400);

    const requests = await recorded();
    expect(requests.map((request) => [request.method, request.path])).toEqual([
      ['POST', '/v1/chat/completions'],
      ['POST', '/v1/completions'],
    ]);
    expect(Buffer.from(requests[0]!.body_base64, 'base64').equals(Buffer.from(raw, 'utf8'))).toBe(true);
    expect(requests[0]!.headers['x-trace']).toBe('t1');
    expect(Buffer.from(requests[1]!.body_base64, 'base64').toString('utf8')).toBe(badJson);
    expect(sim.recordedRequests()).toEqual(requests);

    await fetch(`${sim.url}/_sim/requests`, { method: 'DELETE' });
    expect(await recorded()).toEqual([]);
  });

  it('is off by default: no /_sim/requests route, and it needs the control routes', async () => {
    const plain = await startSimulator({ enableControlRoutes: true });
    try {
      expect((await fetch(`${plain.url}/_sim/requests`)).status).toBe(404);
    } finally {
      await plain.close();
    }
    expect(() => parseCliOptions(['--record-requests'])).toThrow(/--record-requests: needs enableControlRoutes/);
    expect(parseCliOptions(['--record-requests', '--enable-control-routes']).recordRequests).toBe(true);
  });
});
