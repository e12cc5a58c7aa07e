import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInferenceWorld, MODEL, postJson, startSim, type InferenceWorld } from './inference-fixture.ts';

// Issue 13, item 1: when the shutdown grace runs out, a stream still running gets an OpenAI-style error
// event (code server_shutdown) before its socket closes, and its usage record says the server ended it.
let world: InferenceWorld;
let key: string;
beforeAll(async () => {
  world = await createInferenceWorld();
  key = (await world.createKey()).secret;
  // A node slow enough that the stream outlives the 1 s grace by far.
  const sim = await startSim({ itlMs: 300 });
  await world.addNode(sim.url);
});
afterAll(() => world.close());

describe('shutdown: grace period over', () => {
  it('ends each open stream with a server_shutdown error event and records reason server_shutdown', async () => {
    const api = await world.startApi({ env: { SHUTDOWN_GRACE_SECONDS: '1' } });
    const res = await postJson(`${api.baseURL}/chat/completions`, {
      model: MODEL, stream: true, max_tokens: 400, messages: [{ role: 'user', content: 'story '.repeat(300) }], // the echo model answers with the prompt: 300 tokens
    }, key, { 'x-request-id': 'req-shutdown-grace' });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = decoder.decode((await reader.read()).value); // streaming has begun
    const stopped = api.stop();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    await stopped;
    const events = text.split('\n\n').filter((e) => e.startsWith('data: ')).map((e) => e.slice(6));
    expect(events).not.toContain('[DONE]');
    const last = JSON.parse(events.at(-1)!) as { error?: { code: string; type: string; message: string } };
    expect(last.error).toMatchObject({ code: 'server_shutdown', type: 'server_error' });
    // Stopped means drained (recorder and writer): the count is final, and the stream has exactly one record.
    const records = await world.prisma.usageRecord.findMany({ where: { requestId: 'req-shutdown-grace' } });
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ status: 200, outcome: 'PARTIAL', errorCode: 'server_shutdown' });
  });
});
