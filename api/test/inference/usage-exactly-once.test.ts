import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKey } from '@cic/core/api-keys/key-format';
import type { Simulator } from '@cic/vllm-sim';
import { createInferenceWorld, type InferenceWorld, MODEL, startSim } from './inference-fixture.ts';

/*
 * Issue 13, item 9: every request the rate limiter admits ends in exactly one usage record, whatever its
 * outcome; a refused one (429) in none. Each outcome has its own model and node.
 *
 * "Exactly one" is checked after a sentinel request: the API queues records on one Redis connection in the
 * order they are made, and its writer inserts the stream in order, so once the sentinel's record is in
 * Postgres every record queued before it is too, and a second record of the same request would be seen.
 */

let world: InferenceWorld;
let api: Awaited<ReturnType<InferenceWorld['startApi']>>;
let key: string;
const sims: Simulator[] = [];

async function scenario(model: string, options: Parameters<typeof startSim>[0] = {}) {
  const m = await world.addModel(model);
  const sim = await startSim({ model, ...options });
  sims.push(sim);
  const node = await world.addNode(sim.url, { modelId: m.id });
  await world.eventually(async () => api.inference.nodes.nodesFor(model).length > 0);
  return { model, sim, node };
}

const post = (model: string, requestId: string, extra: Record<string, unknown> = {}, secret = key, signal?: AbortSignal) =>
  fetch(`${api.baseURL}/chat/completions`, {
    method: 'POST', signal,
    headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json', 'x-request-id': requestId },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'Say something' }], max_tokens: 10, ...extra }),
  });

const recordsOf = (requestId: string) => world.prisma.usageRecord.findMany({ where: { requestId } });

/** Waits until the writer has inserted everything this API queued so far (see the comment at the top). */
async function flushed(): Promise<void> {
  const sentinel = `sentinel-${randomUUID()}`;
  const res = await post(MODEL, sentinel);
  expect(res.status).toBe(200);
  await res.text();
  await world.eventually(async () => (await recordsOf(sentinel)).length > 0);
}

/** The request's records once its first one arrived and the writer flushed past it. */
async function recordsAfterFlush(requestId: string) {
  await world.eventually(async () => (await recordsOf(requestId)).length > 0);
  await flushed();
  return recordsOf(requestId);
}

beforeAll(async () => {
  world = await createInferenceWorld();
  key = (await world.createKey()).secret;
  sims.push(await startSim());
  await world.addNode(sims[0]!.url);
  api = await world.startApi({
    env: { CIRCUIT_FAILURE_THRESHOLD: '100', INFERENCE_FIRST_BYTE_TIMEOUT_MS: '1000', INFERENCE_IDLE_TIMEOUT_MS: '1000' },
  });
  await world.eventually(async () => api.inference.nodes.nodesFor(MODEL).length > 0);
});

afterAll(async () => {
  await world?.close();
  await Promise.allSettled(sims.map((s) => s.close()));
});

describe('one usage record per admitted request', () => {
  it('200, whole and streamed', async () => {
    const whole = await post(MODEL, 'once-200');
    expect(whole.status).toBe(200);
    await whole.text();
    const streamed = await post(MODEL, 'once-200-stream', { stream: true });
    expect(await streamed.text()).toContain('[DONE]');
    for (const id of ['once-200', 'once-200-stream']) {
      const rows = await recordsAfterFlush(id);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ status: 200, outcome: 'SUCCESS', stream: id.endsWith('stream') });
    }
  });

  it('502: the node answers 5xx', async () => {
    const s = await scenario('once/502', { failureRate: 1, failureTypes: ['server_error'] });
    const res = await post(s.model, 'once-502');
    expect(res.status).toBe(502);
    await res.text();
    const rows = await recordsAfterFlush('once-502');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: 502, outcome: 'ERROR', errorCode: 'upstream_error', promptTokens: 0, completionTokens: 0 });
  });

  it('504: the node sends no headers within the first-byte timeout', async () => {
    const s = await scenario('once/504', { ttftMs: 5_000 });
    const res = await post(s.model, 'once-504');
    expect(res.status).toBe(504);
    await res.text();
    const rows = await recordsAfterFlush('once-504');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: 504, outcome: 'ERROR', errorCode: 'upstream_timeout' });
  });

  it('404: a model that does not exist is refused after admission, and metered as an error', async () => {
    const res = await post('once/no-such-model', 'once-404');
    expect(res.status).toBe(404);
    expect(res.headers.get('x-ratelimit-remaining-requests')).not.toBeNull(); // the limiter admitted it
    await res.text();
    const rows = await recordsAfterFlush('once-404');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: 404, outcome: 'ERROR', errorCode: 'model_not_found', promptTokens: 0, completionTokens: 0, nodeId: null });
  });

  it('402: the credit gate refuses after admission (an organization without credits), metered as an error', async () => {
    const broke = await world.prisma.organization.create({
      data: { name: 'Broke', slug: `broke-${randomBytes(4).toString('hex')}`, billingAccount: { create: { balanceMicros: 0n } } },
    });
    const k = generateKey();
    await world.prisma.apiKey.create({ data: { organizationId: broke.id, name: 'broke', prefix: k.prefix, secretHash: k.secretHash } });
    const before = sims[0]!.stats.requests;
    const res = await post(MODEL, 'once-402', {}, k.secret);
    expect(res.status).toBe(402);
    await res.text();
    expect(sims[0]!.stats.requests).toBe(before);
    const rows = await recordsAfterFlush('once-402');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: 402, outcome: 'ERROR', errorCode: 'insufficient_quota', organizationId: broke.id, promptTokens: 0, completionTokens: 0 });
  });

  it('client abort mid-stream', async () => {
    const s = await scenario('once/abort', { itlMs: 20, outputTokens: 500 });
    const abort = new AbortController();
    const res = await post(s.model, 'once-abort', { stream: true, max_tokens: 500 }, key, abort.signal);
    const reader = res.body!.getReader();
    await reader.read();
    await reader.read();
    abort.abort();
    await world.eventually(async () => s.sim.stats.aborted === 1);
    const rows = await recordsAfterFlush('once-abort');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ outcome: 'PARTIAL', errorCode: 'client_aborted', nodeId: s.node.id });
  });

  it('node cut mid-stream', async () => {
    const s = await scenario('once/cut', { failureRate: 1, failureTypes: ['stream_cut'], outputTokens: 40 });
    const res = await post(s.model, 'once-cut', { stream: true, max_tokens: 40 });
    expect(await res.text()).toContain('upstream_stream_cut');
    const rows = await recordsAfterFlush('once-cut');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: 200, outcome: 'PARTIAL', errorCode: 'upstream_stream_cut', nodeId: s.node.id });
  });

  it('429: a refused request has no record', async () => {
    // (One dispatched to a node before the limiter refused it: limits-and-auth.test.ts.)
    const limited = await world.createKey({ rpmLimit: 1 });
    const ok = await post(MODEL, 'once-429-first', {}, limited.secret);
    expect(ok.status).toBe(200);
    await ok.text();
    const refused = await post(MODEL, 'once-429', {}, limited.secret);
    expect(refused.status).toBe(429);
    await refused.text();
    expect(await recordsAfterFlush('once-429-first')).toHaveLength(1);
    expect(await recordsOf('once-429')).toHaveLength(0);
  });
});
