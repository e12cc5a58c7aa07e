import { createTestDatabase, testRedis, type TestDatabase } from '@cic/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi } from './helpers/test-api.ts';

interface Readiness { status: string; failed: string[]; checks: Record<string, string> }
interface ErrorBody { error: { code: string; message: string; requestId: string } }

let db: TestDatabase;
let api: Awaited<ReturnType<typeof startTestApi>>;

beforeAll(async () => {
  db = await createTestDatabase();
  api = await startTestApi({ databaseUrl: db.url, redisUrl: testRedis().url });
});
afterAll(async () => {
  await api?.stop();
  await db?.drop();
});

describe('health and readiness', () => {
  it('/healthz answers while the process lives', async () => {
    const res = await fetch(`${api.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('/readyz is 200 when Postgres and Redis answer', async () => {
    const res = await fetch(`${api.url}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', failed: [], checks: { database: 'ok', redis: 'ok' } });
  });

  it('/readyz is 503 naming the database when it is unreachable, and the process keeps serving', async () => {
    const broken = await startTestApi({ databaseUrl: 'postgresql://nobody@127.0.0.1:1/nothing', redisUrl: testRedis().url });
    try {
      const res = await fetch(`${broken.url}/readyz`);
      expect(res.status).toBe(503);
      const body = (await res.json()) as Readiness;
      expect(body.failed).toEqual(['database']);
      expect(body.checks.database).toMatch(/^error: /);
      expect((await fetch(`${broken.url}/healthz`)).status).toBe(200);
    } finally {
      await broken.stop();
    }
  });

  it('/readyz is 503 naming redis when Redis is unreachable', async () => {
    const broken = await startTestApi({ databaseUrl: db.url, redisUrl: 'redis://127.0.0.1:1' });
    try {
      const res = await fetch(`${broken.url}/readyz`);
      expect(res.status).toBe(503);
      expect(((await res.json()) as Readiness).failed).toEqual(['redis']);
    } finally {
      await broken.stop();
    }
  });
});

describe('request ids', () => {
  it('generates a req_ id when the client sends none and echoes it', async () => {
    const res = await fetch(`${api.url}/healthz`);
    expect(res.headers.get('x-request-id')).toMatch(/^req_[0-9a-f]{24}$/);
  });

  it('keeps a sane client id', async () => {
    const res = await fetch(`${api.url}/healthz`, { headers: { 'x-request-id': 'client-abc.123:x' } });
    expect(res.headers.get('x-request-id')).toBe('client-abc.123:x');
  });

  it.each([
    ['too long', 'a'.repeat(200)],
    ['spaces and quotes', 'a b"c'],
    ['header injection attempt', 'abc%0d%0aSet-Cookie:x=1'],
    ['non-ascii', 'ïd'],
  ])('replaces an insane client id (%s)', async (_name, sent) => {
    const res = await fetch(`${api.url}/healthz`, { headers: { 'x-request-id': sent } });
    expect(res.headers.get('x-request-id')).toMatch(/^req_[0-9a-f]{24}$/);
    expect(res.headers.get('set-cookie')).toBeNull();
  });
});

describe('errors and metrics', () => {
  it('answers unknown routes with a JSON 404 carrying the request id', async () => {
    const res = await fetch(`${api.url}/nope/123`);
    expect(res.status).toBe(404);
    const body = (await res.json()) as ErrorBody;
    expect(body.error).toMatchObject({ code: 'NOT_FOUND', requestId: res.headers.get('x-request-id') });
  });

  it('answers a wrong method with 405', async () => {
    const res = await fetch(`${api.url}/healthz`, { method: 'DELETE' });
    expect(res.status).toBe(405);
  });

  it('exposes default and HTTP metrics with route templates, never raw paths', async () => {
    await fetch(`${api.url}/nope/some-id-${Date.now()}`);
    await fetch(`${api.url}/healthz`);
    const text = await (await fetch(`${api.url}/metrics`)).text();
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toMatch(/http_requests_total\{method="GET",route="\/healthz",status="200"\} \d+/);
    expect(text).toMatch(/http_requests_total\{method="GET",route="unmatched",status="404"\} \d+/);
    expect(text).toContain('http_request_duration_seconds_bucket{le="0.005",method="GET",route="/healthz"}');
    expect(text).toMatch(/http_active_connections \d+/);
    expect(text).not.toContain('some-id-');
  });
});
