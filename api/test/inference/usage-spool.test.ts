import type { ChildProcess } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '@cic/vllm-sim';
import { hostPortOf, startTcpProxy, type TcpProxy } from '../../../core/test/tcp-proxy.ts';
import { insertUsageRecords } from '../../src/inference/insert-usage-records.ts';
import type { UsageRecordMessage } from '../../src/inference/usage-record.ts';
import { killHard, spawnApiProcess } from './api-process.ts';
import { createInferenceWorld, type InferenceWorld, MODEL, postJson, startSim } from './inference-fixture.ts';

/*
 * Issue 13, item 3: when neither Redis nor Postgres takes a usage record, the API appends it to its spool
 * file (USAGE_SPOOL_DIR) instead of dropping it; the next start replays the file into Postgres, and a replay
 * that died half-way (some records inserted, the file still there) doubles nothing.
 */

const REQUESTS = 3;
let world: InferenceWorld;
let sim: Simulator;
let pg: TcpProxy;
let redisProxy: TcpProxy;
let child: ChildProcess | undefined;

beforeAll(async () => {
  world = await createInferenceWorld();
  // Slow enough that the stores can be cut while the answers stream.
  sim = await startSim({ itlMs: 30 });
  await world.addNode(sim.url);
  pg = await startTcpProxy(hostPortOf(world.db.url, 5432));
  redisProxy = await startTcpProxy(hostPortOf(world.redis.url, 6379));
});

afterAll(async () => {
  if (child) await killHard(child);
  await Promise.all([pg?.close(), redisProxy?.close(), sim?.close()]);
  await world?.close();
});

async function spooled(): Promise<UsageRecordMessage[]> {
  const names = (await readdir(world.spoolDir)).filter((n) => n.endsWith('.ndjson'));
  const lines = await Promise.all(names.map(async (n) => (await readFile(join(world.spoolDir, n), 'utf8')).split('\n').filter((l) => l !== '')));
  return lines.flat().map((l) => JSON.parse(l) as UsageRecordMessage);
}

describe('usage spool', () => {
  it('spools records while Redis and Postgres are both down, and the next start replays them exactly once', async () => {
    const key = await world.createKey();
    // Its liveness outlasts the test, so the dead instance's admissions are not recovered meanwhile: only the spool meters these requests.
    const api = await spawnApiProcess(world, { DATABASE_URL: pg.urlFor(world.db.url), REDIS_URL: redisProxy.urlFor(world.redis.url), ADMISSION_LIVENESS_TTL_MS: '600000' });
    child = api.child;
    await world.eventually(async () => (await postJson(`${api.baseURL}/chat/completions`, { model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 }, key.secret)).status === 200);

    const ids = Array.from({ length: REQUESTS }, (_, i) => `req-spooled-${i}`);
    const bodies = await Promise.all(ids.map(async (id) => {
      const res = await postJson(`${api.baseURL}/chat/completions`, { model: MODEL, stream: true, max_tokens: 60, messages: [{ role: 'user', content: 'word '.repeat(60) }] }, key.secret, { 'x-request-id': id });
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      await reader.read(); // streaming has begun
      return reader;
    }));
    pg.cut();
    redisProxy.cut();
    for (const reader of bodies) while (!(await reader.read()).done);

    const records = await world.eventually(async () => {
      const found = (await spooled()).filter((r) => ids.includes(r.requestId));
      return found.length === REQUESTS ? found : null;
    });
    expect(records.every((r) => r.outcome === 'SUCCESS' && r.completionTokens === 60)).toBe(true);
    await killHard(api.child);

    // A replay that inserted the first record and died before it could delete the file.
    expect(await insertUsageRecords(world.prisma, [records[0]!])).toBe(1);
    await world.startApi();
    await world.eventually(async () => (await spooled()).length === 0);
    const rows = await world.prisma.usageRecord.findMany({ where: { requestId: { in: ids } } });
    expect(rows.map((r) => r.requestId).sort()).toEqual(ids);
    expect(rows.map((r) => r.id).sort()).toEqual(records.map((r) => r.id).sort());
    expect(rows.every((r) => r.outcome === 'SUCCESS' && r.completionTokens === 60)).toBe(true);
  }, 120_000);
});
