import { connect, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import OpenAI from 'openai';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi } from '../src/app.ts';
import { loadApiConfig } from '../src/config.ts';
import { createInferenceWorld, MODEL, startSim, type InferenceWorld } from './inference/inference-fixture.ts';
import type { Simulator } from '@cic/vllm-sim';

// Small deadlines so slow clients are cut quickly; the tests wait on events, never on measured durations.
const LIMITS = { HTTP_BODY_TIMEOUT_MS: '400', HTTP_HEADERS_TIMEOUT_MS: '400', HTTP_MAX_CONNECTIONS_PER_CLIENT: '3', STRIPE_WEBHOOK_SECRET: 'whsec_test_limits' };

let world: InferenceWorld;
let sim: Simulator;
let key: string;
beforeAll(async () => {
  world = await createInferenceWorld();
  // Slow tokens: a streamed answer lasts far longer than the body deadline.
  sim = await startSim({ itlMs: 150 });
  await world.addNode(sim.url);
  key = (await world.createKey({ scopes: ['inference', 'graphql'] })).secret;
});
afterAll(async () => {
  await world?.close();
  await sim?.close();
});

/** The real API with its JSON logs captured, one object per line. */
async function startLogged(env: Record<string, string> = {}) {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const config = loadApiConfig({
    NODE_ENV: 'test', PORT: '0', DATABASE_URL: world.db.url, REDIS_URL: world.redis.url, SHUTDOWN_GRACE_SECONDS: '2',
    INFERENCE_REDIS_PREFIX: world.redis.prefix, REDIS_CHANNEL_PREFIX: world.redis.prefix, INFERENCE_NODE_REFRESH_MS: '200', ...LIMITS, ...env,
  });
  const api = buildApi({ config, log: pino({ level: 'debug' }, sink) });
  const { url, port } = await api.start();
  return { api, url, port, lines };
}

/** A raw TCP client: what it received and a promise settled when the server closed the connection. */
function rawClient(port: number) {
  const socket: Socket = connect(port, '127.0.0.1');
  let received = '';
  socket.on('data', (d: Buffer) => (received += d.toString('latin1')));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const connected = new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  return { socket, closed, connected, received: () => received };
}

/** Sends headers and the first byte of a body, then one byte every 100 ms until the server hangs up. */
function dripBody(port: number, path: string, headers: Record<string, string> = {}) {
  const client = rawClient(port);
  const head = Object.entries({ host: 'localhost', 'content-type': 'application/json', 'content-length': '10000', ...headers }).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  client.socket.write(`POST ${path} HTTP/1.1\r\n${head}\r\n{`);
  const drip = setInterval(() => {
    if (!client.socket.destroyed) client.socket.write(' ');
  }, 100);
  void client.closed.then(() => clearInterval(drip));
  return client;
}

const metricLines = async (url: string, name: string) => (await (await fetch(`${url}/metrics`)).text()).split('\n').filter((l) => l.startsWith(name));

describe('slow clients', () => {
  it.each(['/v1/chat/completions', '/graphql', '/webhooks/stripe'])('a body dripped byte by byte to %s is answered 408 and the connection closed', async (path) => {
    const { api, port } = await startLogged();
    try {
      const client = dripBody(port, path, { authorization: `Bearer ${key}`, 'stripe-signature': 't=1,v1=00' });
      await client.closed;
      expect(client.received()).toMatch(/^HTTP\/1\.1 408 /);
      if (path.startsWith('/v1')) expect(client.received()).toContain('"code":"request_timeout"');
    } finally {
      await api.stop();
    }
  });

  it('also cuts a body dripped to /v1 after an early answer (401 without a key), instead of reading it forever', async () => {
    const { api, port } = await startLogged();
    try {
      const client = dripBody(port, '/v1/chat/completions');
      await client.closed;
      expect(client.received()).toMatch(/^HTTP\/1\.1 401 /);
    } finally {
      await api.stop();
    }
  });

  it('headers dripped byte by byte are answered 408 and the connection closed', async () => {
    const { api, port } = await startLogged();
    try {
      const client = rawClient(port);
      client.socket.write('GET /healthz HTTP/1.1\r\nhost: localhost\r\n');
      const drip = setInterval(() => {
        if (!client.socket.destroyed) client.socket.write('x-slow: a\r\n');
      }, 100);
      await client.closed;
      clearInterval(drip);
      expect(client.received()).toMatch(/^HTTP\/1\.1 408 /);
    } finally {
      await api.stop();
    }
  });

  it('a streamed answer from a slow node outlives the body deadline', async () => {
    const { api, url } = await startLogged();
    try {
      const openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: key, maxRetries: 0 });
      const stream = await openai.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'one two three four five six seven eight nine ten eleven twelve' }], max_tokens: 8, stream: true });
      const chunks: string[] = [];
      let finish: string | null = null;
      for await (const chunk of stream) {
        chunks.push(chunk.choices[0]?.delta.content ?? '');
        finish = chunk.choices[0]?.finish_reason ?? finish;
      }
      // 8 tokens at 150 ms apart: the stream lasted longer than the 400 ms body deadline and still completed.
      expect(chunks.filter(Boolean).length).toBeGreaterThanOrEqual(8);
      expect(finish).toBe('length');
    } finally {
      await api.stop();
    }
  });
});

describe('connections per client address', () => {
  it('closes connections beyond HTTP_MAX_CONNECTIONS_PER_CLIENT at once and counts them; a freed slot is reusable', async () => {
    const { api, port, url } = await startLogged({ HTTP_HEADERS_TIMEOUT_MS: '60000', HTTP_BODY_TIMEOUT_MS: '60000' });
    try {
      const held = [rawClient(port), rawClient(port), rawClient(port)];
      await Promise.all(held.map((c) => c.connected));
      // Let the server see the three before the fourth arrives.
      await new Promise((r) => setTimeout(r, 50));
      const extra = rawClient(port);
      extra.socket.write('GET /healthz HTTP/1.1\r\nhost: localhost\r\n\r\n');
      await extra.closed;
      expect(extra.received()).toBe('');
      held[0]!.socket.destroy();
      await held[0]!.closed;
      let ok = false;
      for (let i = 0; i < 50 && !ok; i++) {
        ok = await fetch(`${url}/healthz`, { headers: { connection: 'close' } }).then((r) => r.ok, () => false);
        if (!ok) await new Promise((r) => setTimeout(r, 20));
      }
      expect(ok).toBe(true);
      expect(await metricLines(url, 'http_refused_connections_total')).toEqual([expect.stringMatching(/^http_refused_connections_total [1-9]/)]);
      for (const c of held) c.socket.destroy();
    } finally {
      await api.stop();
    }
  });
});

describe('oversized headers and aborted uploads', () => {
  it('a 60 KB header is answered 431, not a bare 400', async () => {
    const { api, url } = await startLogged();
    try {
      const res = await fetch(`${url}/healthz`, { headers: { 'x-big': 'a'.repeat(60_000) } });
      expect(res.status).toBe(431);
      expect(await metricLines(url, 'http_client_errors_total')).toContainEqual(expect.stringMatching(/^http_client_errors_total\{status="431"\} 1$/));
    } finally {
      await api.stop();
    }
  });

  // /graphql is not here yet: Yoga's own logger reports a body cut short as an error (its request parser, not our code).
  it.each(['/v1/chat/completions', '/webhooks/stripe'])('an upload to %s aborted by the client is no 500 and no error log', async (path) => {
    const { api, url, port, lines } = await startLogged({ HTTP_BODY_TIMEOUT_MS: '60000' });
    try {
      const client = rawClient(port);
      client.socket.write(`POST ${path} HTTP/1.1\r\nhost: localhost\r\nauthorization: Bearer ${key}\r\nstripe-signature: t=1,v1=00\r\ncontent-type: application/json\r\ncontent-length: 10000\r\nx-request-id: aborted-upload\r\n\r\n{"model":`);
      await new Promise((r) => setTimeout(r, 100));
      client.socket.destroy();
      await world.eventually(() => lines.find((l) => l.requestId === 'aborted-upload' && l.status === 'client_aborted'));
      expect(lines.filter((l) => (l.level as number) >= 50)).toEqual([]);
      const requests = await metricLines(url, 'http_requests_total');
      expect(requests.filter((l) => l.includes('status="5'))).toEqual([]);
      expect(requests.find((l) => l.includes('status="client_aborted"'))).toBeDefined();
    } finally {
      await api.stop();
    }
  });
});
