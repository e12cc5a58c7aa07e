import { afterEach, describe, expect, it } from 'vitest';
import type { Simulator } from '../src/server.ts';
import { countChatPromptTokens, countTokens } from '../src/tokenizer.ts';
import { holdingChat, jsonOf, metricValue, postJson, readSse, scrape, startSimulator, waitFor } from './helpers.ts';

const LABELS = { model_name: 'cic-sim/echo-1', engine: '0' };
let sim: Simulator;
const clients: AbortController[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.abort();
  await sim.close();
});

/** Sends a request that keeps its slot (~itlMs × 1000) until the test aborts it. */
function hold(): { client: AbortController; response: Promise<Response | undefined> } {
  const client = new AbortController();
  clients.push(client);
  const response = postJson(`${sim.url}/v1/chat/completions`, holdingChat(), { signal: client.signal }).catch(
    () => undefined,
  );
  return { client, response };
}

describe('scheduler', () => {
  it('runs at most max-num-seqs and queues the rest, as the metrics show', async () => {
    sim = await startSimulator({ maxNumSeqs: 2, maxModelLen: 2048, itlMs: 50 });
    for (let i = 0; i < 3; i++) hold();
    await waitFor('2 running and 1 waiting', () => sim.stats.running === 2 && sim.stats.waiting === 1);

    const text = await scrape(sim);
    expect(metricValue(text, 'vllm:num_requests_running', LABELS)).toBe(2);
    expect(metricValue(text, 'vllm:num_requests_waiting', LABELS)).toBe(1);
    const usage = metricValue(text, 'vllm:kv_cache_usage_perc', LABELS)!;
    const promptTokens = countChatPromptTokens(holdingChat().messages as never);
    expect(usage).toBeGreaterThanOrEqual((2 * promptTokens) / (2 * 2048));
    expect(usage).toBeLessThan(1);
  });

  it('answers 503 overloaded when the waiting queue is full', async () => {
    sim = await startSimulator({ maxNumSeqs: 1, maxWaiting: 1, itlMs: 50 });
    hold();
    hold();
    await waitFor('1 running and 1 waiting', () => sim.stats.running === 1 && sim.stats.waiting === 1);

    const response = await postJson(`${sim.url}/v1/chat/completions`, holdingChat(3));
    expect(response.status).toBe(503);
    const body = await jsonOf(response);
    expect(body).toEqual({
      error: { message: expect.stringContaining('overloaded'), type: 'ServiceUnavailableError', param: null, code: 503 },
    });
    expect(sim.stats.rejected).toBe(1);
  });

  it('sees a client abort while generating: counts it and frees the slot', async () => {
    sim = await startSimulator({ maxNumSeqs: 1, ttftMs: 0, itlMs: 50 });
    const held = hold();
    await waitFor('the slot to be taken', () => sim.stats.running === 1);
    held.client.abort();
    await waitFor('the abort to be seen', () => sim.stats.aborted === 1);
    expect(sim.stats.running).toBe(0);

    // With the slot still taken this would wait ~50 s behind the held request.
    const response = await postJson(`${sim.url}/v1/chat/completions`, { messages: [{ role: 'user', content: 'hi' }] });
    expect((await jsonOf(response)).choices[0]?.finish_reason).toBe('stop');
    const text = await scrape(sim);
    expect(metricValue(text, 'vllm:request_success_total', { ...LABELS, finished_reason: 'abort' })).toBe(1);
  });

  it('sees a client abort mid-stream, handing the slot to the next in queue', async () => {
    sim = await startSimulator({ maxNumSeqs: 1, ttftMs: 0, itlMs: 20 });
    const client = new AbortController();
    clients.push(client);
    const response = await postJson(
      `${sim.url}/v1/chat/completions`,
      { ...holdingChat(), stream: true },
      { signal: client.signal },
    );
    let firstEvent!: () => void;
    const streaming = new Promise<void>((resolve) => (firstEvent = resolve));
    const reading = readSse(response, firstEvent);
    await streaming;
    const queued = hold();
    await waitFor('one waiting', () => sim.stats.waiting === 1);
    client.abort();
    expect((await reading).done).toBe(false);
    await waitFor('the stream abort to be seen', () => sim.stats.aborted === 1);
    // The freed slot goes to the queued request, which the client then abandons too.
    await waitFor('the queued request to run', () => sim.stats.running === 1 && sim.stats.waiting === 0);
    queued.client.abort();
    await waitFor('both aborts to be seen', () => sim.stats.aborted === 2);
    expect(sim.stats).toMatchObject({ running: 0, waiting: 0, completed: 0 });
  });
  it('drops a request abandoned while still in the queue', async () => {
    sim = await startSimulator({ maxNumSeqs: 1, itlMs: 50 });
    hold();
    const queued = hold();
    await waitFor('one waiting', () => sim.stats.waiting === 1);
    queued.client.abort();
    await waitFor('the queue to empty', () => sim.stats.waiting === 0);
    expect(sim.stats).toMatchObject({ aborted: 1, running: 1 });
  });
});

describe('metrics', () => {
  it('reflect real token counts, outcomes and latencies', async () => {
    sim = await startSimulator({ maxModelLen: 1024 });
    const messages = [{ role: 'user', content: 'count these five tokens' }];
    await jsonOf(await postJson(`${sim.url}/v1/chat/completions`, { messages }));
    await jsonOf(await postJson(`${sim.url}/v1/chat/completions`, { messages, max_tokens: 2 }));

    const text = await scrape(sim);
    const prompt = countChatPromptTokens(messages);
    expect(metricValue(text, 'vllm:prompt_tokens_total', LABELS)).toBe(2 * prompt);
    expect(metricValue(text, 'vllm:generation_tokens_total', LABELS)).toBe(countTokens(messages[0]!.content) + 2);
    expect(metricValue(text, 'vllm:request_success_total', { ...LABELS, finished_reason: 'stop' })).toBe(1);
    expect(metricValue(text, 'vllm:request_success_total', { ...LABELS, finished_reason: 'length' })).toBe(1);
    expect(metricValue(text, 'vllm:num_preemptions_total', LABELS)).toBe(0);
    for (const name of [
      'vllm:time_to_first_token_seconds',
      'vllm:e2e_request_latency_seconds',
      'vllm:request_queue_time_seconds',
      'vllm:request_prompt_tokens',
      'vllm:request_generation_tokens',
    ]) {
      expect(metricValue(text, `${name}_count`, LABELS), name).toBe(2);
    }
    expect(metricValue(text, 'vllm:inter_token_latency_seconds_count', LABELS)).toBe(3 + 1);
    expect(metricValue(text, 'vllm:e2e_request_latency_seconds_sum', LABELS)).toBeGreaterThan(0);
    expect(metricValue(text, 'vllm:request_prompt_tokens_sum', LABELS)).toBe(2 * prompt);
    expect(metricValue(text, 'vllm:num_requests_running', LABELS)).toBe(0);
    expect(metricValue(text, 'vllm:kv_cache_usage_perc', LABELS)).toBe(0);
  });

  it('count prefix cache hits for a repeated long prompt', async () => {
    sim = await startSimulator();
    const messages = [{ role: 'user', content: Array.from({ length: 60 }, (_, i) => `word${i}`).join(' ') }];
    for (let i = 0; i < 2; i++) await jsonOf(await postJson(`${sim.url}/v1/chat/completions`, { messages, max_tokens: 1 }));
    const text = await scrape(sim);
    const prompt = countChatPromptTokens(messages);
    expect(metricValue(text, 'vllm:prefix_cache_queries_total', LABELS)).toBe(2 * prompt);
    expect(metricValue(text, 'vllm:prefix_cache_hits_total', LABELS)).toBe(Math.floor((prompt - 1) / 16) * 16);
  });

  it('keep one registry per instance', async () => {
    sim = await startSimulator();
    const other = await startSimulator();
    try {
      await jsonOf(await postJson(`${sim.url}/v1/completions`, { prompt: 'x' }));
      expect(metricValue(await scrape(other), 'vllm:prompt_tokens_total', LABELS)).toBe(0);
      expect(metricValue(await scrape(sim), 'vllm:prompt_tokens_total', LABELS)).toBe(1);
    } finally {
      await other.close();
    }
  });
});
