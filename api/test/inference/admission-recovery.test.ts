import type { ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '@cic/vllm-sim';
import { hostPortOf, startTcpProxy } from '../../../core/test/tcp-proxy.ts';
import { type AdmissionEntry, admissionKeys } from '../../src/inference/admission-journal.ts';
import { killHard, spawnApiProcess } from './api-process.ts';
import { createInferenceWorld, type InferenceWorld, MODEL, postJson, startSim } from './inference-fixture.ts';

/*
 * Issue 13, item 2: an API instance killed with SIGKILL while requests are in flight. Their admissions are
 * in its Redis journal (written by the limiter's script, checkpointed while they stream); once its liveness
 * key expires another instance meters each as PARTIAL, under the id it was admitted with: every admitted
 * request ends in exactly one usage record.
 */

const STREAMS = 6;
const WHOLE = 2;
const FAST_DURABILITY = { ADMISSION_LIVENESS_TTL_MS: '600', ADMISSION_CHECKPOINT_MS: '100', ADMISSION_RECOVERY_INTERVAL_MS: '100' };
let world: InferenceWorld;
let sim: Simulator;
let redis: Redis;
let child: ChildProcess | undefined;

beforeAll(async () => {
  world = await createInferenceWorld();
  redis = new Redis(world.redis.url);
  // Slow enough that every request is still running when the instance dies.
  sim = await startSim({ itlMs: 40 });
  await world.addNode(sim.url);
});

afterAll(async () => {
  if (child) await killHard(child);
  redis?.disconnect();
  await sim?.close();
  await world?.close();
});

// The echo model answers with the prompt: 1,500 tokens, a minute at 40 ms each, so nothing finishes before the kill.
const messages = [{ role: 'user', content: 'story '.repeat(1_500) }];
const MAX_TOKENS = 2_000;

describe('admission recovery', () => {
  it('meters every request in flight on an instance killed with -9 exactly once, as PARTIAL, with the checkpointed tokens', async () => {
    const key = await world.createKey();
    const victim = await spawnApiProcess(world, FAST_DURABILITY);
    child = victim.child;
    const base = victim.baseURL;
    const admittedSoFar = async () => Number(await redis.get(`${world.redis.prefix}rl:{${key.id}}:r`));
    // Once the child's registry has the node; and until its writer has stored the records of these requests.
    await world.eventually(async () => (await postJson(`${base}/chat/completions`, { model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 }, key.secret)).status === 200);
    await world.eventually(async () => (await world.prisma.usageRecord.count({ where: { apiKeyId: key.id } })) === (await admittedSoFar()));

    const ids = Array.from({ length: STREAMS + WHOLE }, (_, i) => `req-killed-${i}`);
    await Promise.all(ids.slice(0, STREAMS).map(async (id) => {
      const res = await postJson(`${base}/chat/completions`, { model: MODEL, stream: true, max_tokens: MAX_TOKENS, messages, user: 'user-42' }, key.secret, { 'x-request-id': id });
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      void (async () => {
        try {
          while (!(await reader.read()).done);
        } catch {
          // The connection dies with the instance.
        }
      })();
    }));
    // Whole answers: admitted, still generating, nothing relayed yet.
    const whole = ids.slice(STREAMS).map((id) => postJson(`${base}/chat/completions`, { model: MODEL, max_tokens: MAX_TOKENS, messages }, key.secret, { 'x-request-id': id }).catch(() => null));

    const [instance] = await redis.smembers(`${world.redis.prefix}adm:instances`);
    const keys = admissionKeys(world.redis.prefix, instance!);
    // Every admitted request journaled, and each stream checkpointed with some tokens relayed.
    const journal = await world.eventually(async () => {
      const entries = Object.values(await redis.hgetall(keys.journal)).map((v) => JSON.parse(v) as AdmissionEntry);
      const streamed = entries.filter((e) => e.stream && e.completionTokens >= 10);
      return entries.length === ids.length && streamed.length === STREAMS ? entries : null;
    });
    await killHard(victim.child);
    await Promise.all(whole);
    // What the journal held at the moment of death.
    const atDeath = new Map(Object.values(await redis.hgetall(keys.journal)).map((v) => JSON.parse(v) as AdmissionEntry).map((e) => [e.id, e]));
    expect([...atDeath.keys()].sort()).toEqual(journal.map((e) => e.id).sort());

    const recovering = await world.startApi({ env: FAST_DURABILITY });
    const records = await world.eventually(async () => {
      const rows = await world.prisma.usageRecord.findMany({ where: { requestId: { in: ids } } });
      return rows.length >= ids.length ? rows : null;
    });
    // The dead instance's journal and registration are gone: nothing is left to recover twice.
    await world.eventually(async () => (await redis.exists(keys.journal)) === 0);
    expect(await redis.sismember(keys.instances, instance!)).toBe(0);
    const again = await world.prisma.usageRecord.findMany({ where: { requestId: { in: ids } } });
    expect(again.map((r) => r.requestId).sort()).toEqual([...ids].sort());
    for (const r of records) {
      const entry = atDeath.get(r.id)!;
      expect(entry, `record ${r.id} has the id its admission was journaled under`).toBeDefined();
      expect(r).toMatchObject({ outcome: 'PARTIAL', estimated: true, errorCode: 'api_instance_lost', apiKeyId: key.id, promptTokens: entry.promptTokens });
      expect(r.completionTokens).toBeGreaterThanOrEqual(entry.completionTokens);
      if (r.stream) expect(r).toMatchObject({ status: 200, nodeId: entry.nodeId, user: 'user-42' });
    }
    // And the limiter's count of admitted requests equals the records of the key (the first request's included).
    expect(await world.prisma.usageRecord.count({ where: { apiKeyId: key.id } })).toBe(await admittedSoFar());
    // Its heartbeat would register it again while the next test looks for the one instance it starts.
    await recovering.stop();
  }, 120_000);

  it('an admission registers its instance and refreshes its liveness, even before the first heartbeat', async () => {
    const key = await world.createKey();
    // A heartbeat once in 200 s: only the admission itself can register the instance.
    const api = await world.startApi({ env: { ADMISSION_LIVENESS_TTL_MS: '600000', ADMISSION_CHECKPOINT_MS: '200000' } });
    await world.eventually(() => api.inference.nodes.nodesFor(MODEL).length > 0);
    const instances = `${world.redis.prefix}adm:instances`;
    // As if the start-up heartbeat had not reached Redis yet (a connection still opening).
    for (const id of await redis.smembers(instances)) {
      await redis.srem(instances, id);
      await redis.del(admissionKeys(world.redis.prefix, id).live);
    }
    const res = await postJson(`${api.baseURL}/chat/completions`, { model: MODEL, stream: true, max_tokens: 30, messages: [{ role: 'user', content: 'word '.repeat(30) }] }, key.secret, { 'x-request-id': 'req-first' });
    const reader = res.body!.getReader();
    await reader.read();
    const registered = await redis.smembers(instances);
    expect(registered).toHaveLength(1);
    const id = registered[0];
    const own = admissionKeys(world.redis.prefix, id!);
    expect(await redis.hlen(own.journal)).toBe(1);
    expect(await redis.pttl(own.live)).toBeGreaterThan(500_000);
    while (!(await reader.read()).done);
  });

  it('deletes the entry of a request metered while Redis was away once Redis is back', async () => {
    const key = await world.createKey();
    const proxy = await startTcpProxy(hostPortOf(world.redis.url, 6379));
    try {
      // Alive for the whole test whatever Redis says, so the other instance does not recover its request meanwhile.
      const api = await world.startApi({ redisUrl: proxy.urlFor(world.redis.url), env: { ...FAST_DURABILITY, ADMISSION_LIVENESS_TTL_MS: '600000' } });
      await world.eventually(() => api.inference.nodes.nodesFor(MODEL).length > 0);
      const res = await postJson(`${api.baseURL}/chat/completions`, { model: MODEL, stream: true, max_tokens: 30, messages: [{ role: 'user', content: 'word '.repeat(30) }] }, key.secret, { 'x-request-id': 'req-redis-away' });
      const reader = res.body!.getReader();
      await reader.read(); // admitted and journaled; the record comes at the end
      proxy.cut();
      while (!(await reader.read()).done);
      const record = await world.eventually(() => world.prisma.usageRecord.findFirst({ where: { requestId: 'req-redis-away' } }));
      expect(record.outcome).toBe('SUCCESS');
      // Its record went straight to Postgres; the entry could not be deleted with it.
      const journals = (await redis.smembers(`${world.redis.prefix}adm:instances`)).map((id) => admissionKeys(world.redis.prefix, id).journal);
      const journaled = async () => (await Promise.all(journals.map((j) => redis.hexists(j, record.id)))).includes(1);
      expect(await journaled()).toBe(true);
      proxy.restore();
      await world.eventually(async () => !(await journaled()));
    } finally {
      await proxy.close();
    }
  });
});
