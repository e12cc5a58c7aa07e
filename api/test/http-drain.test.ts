// A client reusing a keep-alive connection through a shutdown: the API first answers for
// SHUTDOWN_ANNOUNCE_MS with `Connection: close` and an unready /readyz, so the client's requests get
// answers and it reconnects (to another instance behind a balancer), instead of finding its socket closed
// under a request it already sent ("other side closed", found by the chaos suite's SIGTERM fault).
import { createTestDatabase, testRedis, type TestDatabase } from '@cic/db/testing';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi } from './helpers/test-api.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.drop());

/** Sends GET path on the agent's one keep-alive connection; the status and Connection header, or the error. */
async function get(agent: Agent, url: string, path: string): Promise<{ status: number; connection: string | undefined } | { error: string }> {
  try {
    const res = await request(`${url}${path}`, { dispatcher: agent });
    await res.body.dump();
    return { status: res.statusCode, connection: res.headers.connection as string | undefined };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

describe('HTTP drain on shutdown', () => {
  it('answers requests on open keep-alive connections with Connection: close before closing, and reports unready', async () => {
    const api = await startTestApi({ databaseUrl: db.url, redisUrl: testRedis().url, env: { SHUTDOWN_ANNOUNCE_MS: '1500', SHUTDOWN_GRACE_SECONDS: '5' } });
    const agent = new Agent({ connections: 1, keepAliveTimeout: 60_000 });
    try {
      expect(await get(agent, api.url, '/healthz')).toMatchObject({ status: 200, connection: 'keep-alive' });
      const stopped = api.stop();
      const during = [];
      for (let i = 0; i < 5; i++) during.push(await get(agent, api.url, i % 2 ? '/readyz' : '/healthz'));
      expect(during).toEqual([
        { status: 200, connection: 'close' }, { status: 503, connection: 'close' }, { status: 200, connection: 'close' },
        { status: 503, connection: 'close' }, { status: 200, connection: 'close' },
      ]);
      await stopped;
      expect(await get(agent, api.url, '/healthz')).toEqual({ error: expect.stringMatching(/ECONNREFUSED|connect/) });
    } finally {
      await agent.close();
    }
  });
});
