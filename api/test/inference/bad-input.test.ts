import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '@cic/vllm-sim';
import { createInferenceWorld, type InferenceWorld, MODEL, postJson, startSim } from './inference-fixture.ts';

let world: InferenceWorld;
let sim: Simulator;
let key: string;
let api: Awaited<ReturnType<InferenceWorld['startApi']>>;

beforeAll(async () => {
  world = await createInferenceWorld();
  sim = await startSim();
  await world.addNode(sim.url);
  key = (await world.createKey()).secret;
  api = await world.startApi({ env: { INFERENCE_MAX_BODY_BYTES: '65536' } });
});

afterAll(async () => {
  await world?.close();
  await sim?.close();
});

interface ErrorBody { error: { message: string; type: string; param: string | null; code: string | null } }

async function expectError(res: Response, status: number, param?: string | null): Promise<ErrorBody['error']> {
  expect(res.status).toBe(status);
  const body = (await res.json()) as ErrorBody;
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
  if (param !== undefined) expect(body.error.param).toBe(param);
  return body.error;
}

/** Sends raw bytes and returns the raw response head (for what fetch refuses to send). */
function rawRequest(port: number, payload: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(payload));
    let data = '';
    socket.on('data', (d) => { data += d.toString(); if (data.includes('\r\n\r\n')) socket.end(); });
    socket.on('close', () => resolve(data));
    socket.on('error', reject);
  });
}

const url = () => `${api.baseURL}/chat/completions`;
const messages = [{ role: 'user', content: 'Hi' }];

describe('bad input under /v1', () => {
  it('refuses malformed JSON', async () => {
    const err = await expectError(await postJson(url(), '{"model": "x", ', key), 400);
    expect(err).toMatchObject({ type: 'invalid_request_error', code: 'invalid_json' });
  });

  it('refuses a body that is not an object, and wrong types, naming the field', async () => {
    await expectError(await postJson(url(), '[1,2]', key), 400);
    await expectError(await postJson(url(), { model: MODEL, messages: 'hello' }, key), 400, 'messages');
    await expectError(await postJson(url(), { model: MODEL, messages, stream: 'yes' }, key), 400, 'stream');
    await expectError(await postJson(url(), { model: MODEL, messages: [{ content: 'no role' }] }, key), 400, 'messages.0.role');
    await expectError(await postJson(`${api.baseURL}/completions`, { model: MODEL, prompt: 42 }, key), 400, 'prompt');
  });

  it('refuses a missing model and a negative max_tokens', async () => {
    const missing = await expectError(await postJson(url(), { messages }, key), 400, 'model');
    expect(missing.code).toBe('missing_required_parameter');
    await expectError(await postJson(url(), { model: MODEL, messages, max_tokens: -5 }, key), 400, 'max_tokens');
  });

  it('refuses a body over the limit with 413, declared or streamed', async () => {
    const huge = JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'x'.repeat(70_000) }] });
    const err = await expectError(await postJson(url(), huge, key), 413);
    expect(err.code).toBe('request_too_large');
    const chunked = await fetch(url(), {
      method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, duplex: 'half',
      body: new ReadableStream({ start(c) { for (let i = 0; i < 20; i++) c.enqueue(new TextEncoder().encode('x'.repeat(8_192))); c.close(); } }),
    } as RequestInit);
    expect(chunked.status).toBe(413);
  });

  it('keeps unknown fields and passes them to vLLM (the simulator rejects a bad one)', async () => {
    const res = await postJson(url(), { model: MODEL, messages, top_k: 5, max_tokens: 3 }, key);
    expect(res.status).toBe(200);
  });

  it('answers unknown /v1 routes and wrong methods in OpenAI shape', async () => {
    // /responses included: CIC does not serve OpenAI's Responses API (docs/inference.md).
    for (const path of ['/responses', '/audio/speech', '', '/chat/completions/x']) {
      expect((await expectError(await fetch(`${api.baseURL}${path}`, { method: 'POST' }), 404)).code).toBe('unknown_url');
    }
    const wrong = await fetch(url(), { headers: { authorization: `Bearer ${key}` } });
    expect(wrong.headers.get('allow')).toBe('POST');
    expect(await expectError(wrong, 405)).toMatchObject({ type: 'invalid_request_error', code: 'method_not_allowed' });
    const remove = await fetch(`${api.baseURL}/models`, { method: 'DELETE', headers: { authorization: `Bearer ${key}` } });
    expect(remove.headers.get('allow')).toBe('GET');
    expect((await expectError(remove, 405)).code).toBe('method_not_allowed');
  });

  it('masks an unexpected error in OpenAI shape with the request id logged, and still meters the request', async () => {
    const broken = await world.startApi({ creditGate: { assertCanSpend: () => { throw new Error('ledger exploded at 10.0.0.7'); } } });
    const res = await postJson(`${broken.baseURL}/chat/completions`, { model: MODEL, messages }, key, { 'x-request-id': 'req-masked-v1' });
    const err = await expectError(res, 500);
    expect(err).toEqual({ message: 'Unexpected error.', type: 'server_error', param: null, code: null });
    expect(res.headers.get('x-ratelimit-limit-requests')).toMatch(/^\d+$/);
    const record = await world.eventually(() => world.prisma.usageRecord.findFirst({ where: { requestId: 'req-masked-v1' } }));
    expect(record).toMatchObject({ status: 500, outcome: 'ERROR', errorCode: 'internal', nodeId: null });
  });

  it('never echoes an injected X-Request-ID and stays healthy', async () => {
    const head = await rawRequest(api.port, `GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\nX-Request-ID: abc\rX-Evil: 1\r\n\r\n`);
    expect(head).not.toMatch(/\r\nX-Evil/i);
    const weird = await fetch(`${api.baseURL}/models`, { headers: { authorization: `Bearer ${key}`, 'x-request-id': 'a b <script>' } });
    expect(weird.headers.get('x-request-id')).toMatch(/^req_[0-9a-f]+$/);
    const sane = await fetch(`${api.baseURL}/models`, { headers: { authorization: `Bearer ${key}`, 'x-request-id': 'client-123' } });
    expect(sane.headers.get('x-request-id')).toBe('client-123');
    const ok = await postJson(url(), { model: MODEL, messages }, key);
    expect(ok.status).toBe(200);
  });

  it('exposes the inference metrics without key labels, organizations only by id', async () => {
    const text = await (await fetch(`${api.url}/metrics`)).text();
    for (const name of ['cic_inference_requests_total', 'cic_inference_ttft_seconds', 'cic_inference_duration_seconds', 'cic_inference_tokens_total', 'cic_circuit_state', 'cic_ratelimit_rejections_total', 'cic_upstream_errors_total']) {
      expect(text).toContain(`# TYPE ${name}`);
    }
    const org = `organization="${world.org.id}"`;
    expect(text).toContain(`cic_inference_requests_total{model="cic/sim-echo-1",status="200",${org}}`);
    expect(text).toContain(`cic_inference_requests_total{model="unknown",status="400",${org}}`);
    expect(text).toContain(`cic_inference_requests_total{model="unknown",status="413",${org}}`);
    // One route per endpoint: the HTTP metrics name each, not a /v1 catch-all.
    expect(text).toMatch(/http_requests_total\{method="POST",route="\/v1\/chat\/completions",status="200"\} \d+/);
    expect(text).toMatch(/http_requests_total\{method="GET",route="\/v1\/models",status="200"\} \d+/);
    // Label sets only: help texts may well speak of organizations.
    expect(text).not.toMatch(/\{[^}]*(api_key|key_id)[^}]*\}/);
    expect(text).not.toContain(world.org.slug);
  });
});
