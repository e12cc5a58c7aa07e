import { Writable } from 'node:stream';
import { createTestDatabase, testRedis, type TestDatabase } from '@cic/db/testing';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi } from '../src/app.ts';
import { loadApiConfig } from '../src/config.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.drop());

/** The real API with its JSON logs captured, one object per line. */
async function startLogged(env: Record<string, string>) {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const config = loadApiConfig({ NODE_ENV: 'test', PORT: '0', DATABASE_URL: db.url, REDIS_URL: testRedis().url, ...env });
  const api = buildApi({ config, log: pino({ level: 'info' }, sink) });
  const { url } = await api.start();
  return { api, url, lines };
}

describe('access log', () => {
  it('logs each request as JSON with its request id, route template and socket address', async () => {
    const { api, url, lines } = await startLogged({});
    try {
      await fetch(`${url}/healthz`, { headers: { 'x-request-id': 'trace-1', 'x-forwarded-for': '203.0.113.9' } });
      const entry = lines.find((l) => l.msg === 'request' && l.requestId === 'trace-1');
      expect(entry).toMatchObject({ method: 'GET', route: '/healthz', status: 200, ip: '127.0.0.1' });
    } finally {
      await api.stop();
    }
  });

  it('takes the client address from X-Forwarded-For only when TRUST_PROXY is on', async () => {
    const { api, url, lines } = await startLogged({ TRUST_PROXY: 'true' });
    try {
      await fetch(`${url}/healthz`, { headers: { 'x-request-id': 'trace-2', 'x-forwarded-for': '203.0.113.9, 10.0.0.1' } });
      expect(lines.find((l) => l.msg === 'request' && l.requestId === 'trace-2')).toMatchObject({ ip: '203.0.113.9' });
    } finally {
      await api.stop();
    }
  });
});
