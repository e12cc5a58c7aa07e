import { connect } from 'node:net';
import { Readable } from 'node:stream';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGraphQLWorld, gql, type GqlResult } from './graphql-fixture.ts';

// What /graphql shows, and to whom, before any operation runs: authentication first, body and message
// caps, introspection/suggestions/GraphiQL settings, masked errors and CORS (docs/security.md#graphql).

let world: Awaited<ReturnType<typeof createGraphQLWorld>>;
let url: string;
let token: string;
const DASHBOARD = 'http://dashboard.test:3000';

beforeAll(async () => {
  world = await createGraphQLWorld();
  token = (await world.tenant('Acme')).ownerToken;
  url = (await world.startApi({ PUBLIC_WEB_URL: `${DASHBOARD}/` })).url;
});
afterAll(() => world.close());

const post = (target: string, body: BodyInit, headers: Record<string, string> = {}, init: Record<string, unknown> = {}) =>
  fetch(`${target}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body, ...init });

/** Sends only the request head (a body of `declared` bytes announced, none sent) and returns the status line. */
function statusWithoutBody(target: string, head: string): Promise<string> {
  const { hostname, port } = new URL(target);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(head));
    socket.once('data', (chunk) => {
      resolve(String(chunk).split('\r\n', 1)[0]!);
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

describe('anonymous callers', () => {
  it('get 401 UNAUTHENTICATED for queries, mutations, batches, GET and SSE subscriptions', async () => {
    const attempts = [
      post(url, JSON.stringify({ query: '{ __typename }' })),
      post(url, JSON.stringify({ query: '{ models { name } }' })),
      post(url, JSON.stringify({ query: 'mutation { revokeApiKey(id: "key_x") { id } }' })),
      post(url, JSON.stringify([{ query: '{ __typename }' }, { query: '{ __typename }' }])),
      fetch(`${url}/graphql?query=${encodeURIComponent('{ __typename }')}`, { headers: { 'x-graphql-client': 'test', accept: 'application/json' } }),
      post(url, JSON.stringify({ query: 'subscription { nodeStatusChanged { id } }' }), { accept: 'text/event-stream' }),
    ];
    for (const res of await Promise.all(attempts)) {
      expect(res.status).toBe(401);
      const body = (await res.json()) as { errors: { extensions: { code: string; requestId: string } }[]; data?: unknown };
      expect(body.errors[0]!.extensions).toMatchObject({ code: 'UNAUTHENTICATED', requestId: expect.any(String) });
      expect(body.data).toBeUndefined();
    }
  });

  it('are refused before their body is read: a 10 MB body announced and never sent still gets 401', async () => {
    const { host } = new URL(url);
    const head = `POST /graphql HTTP/1.1\r\nhost: ${host}\r\ncontent-type: application/json\r\ncontent-length: 10000000\r\n\r\n`;
    expect(await statusWithoutBody(url, head)).toBe('HTTP/1.1 401 Unauthorized');
  });

  it('cannot introspect the schema', async () => {
    const r = await gql(url, '{ __schema { types { name } } }');
    expect(r.status).toBe(401);
    expect(JSON.stringify(r)).not.toContain('Organization');
  });
});

describe('body and message size', () => {
  it('refuses a body over GRAPHQL_MAX_BODY_BYTES (1 MiB by default) with 413 PAYLOAD_TOO_LARGE, announced or chunked', async () => {
    const big = JSON.stringify({ query: '{ viewer { id } }', variables: { pad: 'x'.repeat(1_100_000) } });
    const announced = await post(url, big, { authorization: `Bearer ${token}` });
    const chunked = await post(url, Readable.toWeb(Readable.from([Buffer.from(big)])) as ReadableStream, { authorization: `Bearer ${token}` }, { duplex: 'half' });
    const sse = await post(url, big, { authorization: `Bearer ${token}`, accept: 'text/event-stream' });
    for (const res of [announced, chunked]) {
      expect(res.status).toBe(413);
      const body = (await res.json()) as { errors: { message: string; extensions: { code: string } }[] };
      expect(body.errors[0]).toMatchObject({ message: 'Request body exceeds the limit of 1048576 bytes.', extensions: { code: 'PAYLOAD_TOO_LARGE' } });
    }
    // An SSE client gets the same refusal as its stream's one event.
    expect(sse.status).toBe(413);
    expect(await sse.text()).toMatch(/"code":"PAYLOAD_TOO_LARGE"/);
    // Just under the cap is an ordinary request.
    const fits = await gql<{ viewer: { id: string } }>(url, '', {}, { auth: token, body: { query: '{ viewer { id } }', variables: { pad: 'x'.repeat(1_000_000) } } });
    expect(fits.data?.viewer.id).toBeTruthy();
  });

  it('applies a configured body cap before reading the rest of the body', async () => {
    const small = await world.startApi({ GRAPHQL_MAX_BODY_BYTES: '4096' });
    try {
      const { host } = new URL(small.url);
      const head = `POST /graphql HTTP/1.1\r\nhost: ${host}\r\nauthorization: Bearer ${token}\r\ncontent-type: application/json\r\ncontent-length: 5000\r\n\r\n`;
      expect(await statusWithoutBody(small.url, head)).toBe('HTTP/1.1 413 Payload Too Large');
    } finally {
      await small.stop();
    }
  });

  it('closes a graphql-ws socket whose message is over GRAPHQL_MAX_WS_MESSAGE_BYTES', async () => {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.on('error', () => undefined);
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
    await new Promise((resolve) => ws.once('message', resolve));
    ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: `subscription { nodeStatusChanged { id } } # ${'x'.repeat(70_000)}` } }));
    expect(await closed).toBe(1009);
  });
});

describe('introspection, suggestions and GraphiQL', () => {
  it('outside production: introspection and suggestions for authenticated callers, GraphiQL served without any CDN', async () => {
    const intro = await gql<{ __schema: { types: { name: string }[] } }>(url, '{ __schema { types { name } } }', {}, { auth: token });
    expect(intro.data?.__schema.types.map((t) => t.name)).toContain('Organization');
    expect((await gql(url, '{ viewr { id } }', {}, { auth: token })).errors?.[0]?.message).toMatch(/Did you mean "viewer"/);
    const page = await fetch(`${url}/graphql`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('YogaGraphiQL');
    // Every script, style and icon is inline: nothing is fetched from another host.
    const external = [...html.matchAll(/<(?:script|link)\b[^>]*\b(?:src|href)\s*=\s*["']?([^"'\s>]+)/gi)].map((m) => m[1]!).filter((u) => !u.startsWith('data:'));
    expect(external).toEqual([]);
    expect(html).not.toMatch(/unpkg\.com|jsdelivr|cdnjs/);
  });

  it('in production: all off by default; GRAPHQL_INTROSPECTION and GRAPHQL_GRAPHIQL turn them on', async () => {
    const prod = await world.startApi({ NODE_ENV: 'production' });
    const open = await world.startApi({ NODE_ENV: 'production', GRAPHQL_INTROSPECTION: 'true', GRAPHQL_GRAPHIQL: 'true' });
    const closed = await world.startApi({ GRAPHQL_INTROSPECTION: 'false', GRAPHQL_GRAPHIQL: 'false' });
    try {
      for (const target of [prod.url, closed.url]) {
        expect(JSON.stringify(await gql(target, '{ __schema { types { name } } }', {}, { auth: token }))).toMatch(/introspection/i);
        expect(JSON.stringify(await gql(target, '{ viewr { id } }', {}, { auth: token }))).not.toMatch(/Did you mean/);
        expect(await (await fetch(`${target}/graphql`, { headers: { accept: 'text/html' } })).text()).not.toMatch(/graphiql/i);
      }
      expect((await gql(open.url, '{ __schema { queryType { name } } }', {}, { auth: token })).data).toEqual({ __schema: { queryType: { name: 'Query' } } });
      expect((await gql(open.url, '{ viewr { id } }', {}, { auth: token })).errors?.[0]?.message).toMatch(/Did you mean "viewer"/);
      expect(await (await fetch(`${open.url}/graphql`, { headers: { accept: 'text/html' } })).text()).toContain('YogaGraphiQL');
      // Still never for anonymous callers.
      expect((await gql(open.url, '{ __schema { queryType { name } } }')).status).toBe(401);
    } finally {
      await Promise.all([prod.stop(), open.stop(), closed.stop()]);
    }
  });
});

it('never sends originalError or stack details, also under NODE_ENV=development', async () => {
  const dev = await world.startApi({ NODE_ENV: 'development' });
  await world.prisma.$executeRawUnsafe('ALTER TABLE usage_hourly RENAME TO usage_hourly_hidden');
  try {
    const failures = [
      await gql(dev.url, '{ organization { usage(from: "2026-01-01T00:00:00Z") { totals { requests } } } }', {}, { auth: token }),
      await gql(dev.url, '', {}, { auth: token, body: { query: '{ viewer { id } }', variables: 'not an object' } }),
      await gql(dev.url, '{ viewer { ', {}, { auth: token }),
    ];
    // Yoga's own JSON parser reports the SyntaxError it caught.
    const badJson = await post(dev.url, '{"query": ', { authorization: `Bearer ${token}` });
    expect(badJson.status).toBe(400);
    failures.push({ status: badJson.status, ...((await badJson.json()) as Omit<GqlResult, 'status'>) });
    for (const r of failures) {
      expect(r.errors?.length).toBeGreaterThan(0);
      for (const e of r.errors!) expect(Object.keys(e.extensions ?? {}).sort()).toEqual(expect.not.arrayContaining(['originalError', 'stacktrace', 'stack', 'exception']));
      expect(JSON.stringify(r)).not.toMatch(/originalError|stack|SyntaxError|usage_hourly|\.ts:\d+/);
    }
  } finally {
    await world.prisma.$executeRawUnsafe('ALTER TABLE usage_hourly_hidden RENAME TO usage_hourly');
    await dev.stop();
  }
});

describe('CORS', () => {
  const preflight = (target: string, origin: string) =>
    fetch(`${target}/graphql`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' } });

  it("allows the dashboard's origin (PUBLIC_WEB_URL), with credentials, on preflight and request", async () => {
    const pre = await preflight(url, DASHBOARD);
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe(DASHBOARD);
    expect(pre.headers.get('access-control-allow-credentials')).toBe('true');
    expect(pre.headers.get('access-control-allow-headers')).toMatch(/authorization/);
    const res = await post(url, JSON.stringify({ query: '{ __typename }' }), { origin: DASHBOARD, authorization: `Bearer ${token}` });
    expect(res.headers.get('access-control-allow-origin')).toBe(DASHBOARD);
  });

  it('gives any other origin no CORS header at all', async () => {
    for (const origin of ['https://evil.example', 'http://dashboard.test:3001', 'null']) {
      const pre = await preflight(url, origin);
      expect(pre.headers.get('access-control-allow-origin')).toBeNull();
      expect(pre.headers.get('access-control-allow-credentials')).toBeNull();
      const res = await post(url, JSON.stringify({ query: '{ __typename }' }), { origin, authorization: `Bearer ${token}` });
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    }
  });

  it('takes the allowed origins from GRAPHQL_CORS_ORIGINS', async () => {
    const api = await world.startApi({ GRAPHQL_CORS_ORIGINS: 'https://a.example, https://b.example:8443' });
    try {
      expect((await preflight(api.url, 'https://b.example:8443')).headers.get('access-control-allow-origin')).toBe('https://b.example:8443');
      expect((await preflight(api.url, 'https://a.example')).headers.get('access-control-allow-origin')).toBe('https://a.example');
      expect((await preflight(api.url, DASHBOARD)).headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await api.stop();
    }
  });
});
