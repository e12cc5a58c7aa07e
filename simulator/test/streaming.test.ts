import { once } from 'node:events';
import { type IncomingMessage, request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../src/server.ts';
import { countChatPromptTokens, countTokens } from '../src/tokenizer.ts';
import {
  holdingChat,
  jsonOf,
  metricValue,
  postJson,
  readSse,
  scrape,
  startSimulator,
  type WireBody,
} from './helpers.ts';

const TEXT = 'Stream me, please.';
const MESSAGES = [{ role: 'user', content: TEXT }];
const PROMPT_TOKENS = countChatPromptTokens(MESSAGES);
const TEXT_TOKENS = countTokens(TEXT);

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(() => sim.close());

async function streamChat(extra: Record<string, unknown> = {}, url = sim.url) {
  const response = await postJson(`${url}/v1/chat/completions`, { messages: MESSAGES, stream: true, ...extra });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
  return readSse(response);
}

type Chunk = Pick<WireBody, 'id' | 'object' | 'created' | 'model' | 'choices'> & { usage?: WireBody['usage'] };

describe('chat streaming', () => {
  it('sends role chunk, one chunk per token, finish chunk, usage chunk, then [DONE]', async () => {
    const { data, events, done } = await streamChat({ stream_options: { include_usage: true } });
    const chunks = events as unknown as Chunk[];
    expect(done).toBe(true);
    expect(data.at(-1)).toBe('[DONE]');
    expect(chunks).toHaveLength(1 + TEXT_TOKENS + 1 + 1);

    const [first, ...rest] = chunks;
    expect(first).toEqual({
      id: expect.stringMatching(/^chatcmpl-[0-9a-f]+$/),
      object: 'chat.completion.chunk',
      created: expect.any(Number),
      model: 'cic-sim/echo-1',
      choices: [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }],
    });
    for (const chunk of chunks) {
      expect(chunk).toMatchObject({ id: first!.id, created: first!.created, object: 'chat.completion.chunk' });
    }
    const content = rest.slice(0, TEXT_TOKENS);
    expect(content.map((chunk) => chunk.choices[0]!.delta.content).join('')).toBe(TEXT);
    for (const chunk of content) {
      expect(chunk.choices[0]).toMatchObject({ finish_reason: null });
      expect(chunk.usage).toBeUndefined();
    }
    expect(rest[TEXT_TOKENS]!.choices[0]).toMatchObject({ finish_reason: 'stop' });
    expect(rest[TEXT_TOKENS + 1]).toMatchObject({
      choices: [],
      usage: { prompt_tokens: PROMPT_TOKENS, completion_tokens: TEXT_TOKENS, total_tokens: PROMPT_TOKENS + TEXT_TOKENS },
    });
  });

  it('sends no usage chunk unless asked', async () => {
    const { events, done } = await streamChat();
    expect(done).toBe(true);
    expect(events.some((event) => 'usage' in event)).toBe(false);
    expect((events.at(-1) as unknown as Chunk).choices[0]).toMatchObject({ finish_reason: 'stop' });
  });

  it('puts usage on every chunk with continuous_usage_stats', async () => {
    const { events } = await streamChat({ stream_options: { include_usage: true, continuous_usage_stats: true } });
    const counts = events.map((event) => (event.usage as { completion_tokens: number }).completion_tokens);
    // role chunk (0), one per token (1..n), finish chunk (n), final usage chunk (n)
    expect(counts).toEqual([0, ...Array.from({ length: TEXT_TOKENS }, (_, i) => i + 1), TEXT_TOKENS, TEXT_TOKENS]);
    for (const event of events) expect(event.usage).toMatchObject({ prompt_tokens: PROMPT_TOKENS });
  });

  it('finishes with length when max_tokens caps the answer', async () => {
    const { events } = await streamChat({ max_tokens: 2, stream_options: { include_usage: true } });
    const chunks = events as unknown as Chunk[];
    expect(chunks.slice(1, 3).map((chunk) => chunk.choices[0]!.delta.content)).toEqual(['Stream', ' me']);
    expect(chunks[3]!.choices[0]).toMatchObject({ finish_reason: 'length' });
    expect(chunks[4]!.usage).toMatchObject({ completion_tokens: 2 });
  });
});

describe('completions streaming', () => {
  it('streams text_completion chunks with choices[].text', async () => {
    const response = await postJson(`${sim.url}/v1/completions`, {
      prompt: 'a b c',
      stream: true,
      stream_options: { include_usage: true },
    });
    const { events, done } = await readSse(response);
    const chunks = events as unknown as Chunk[];
    expect(done).toBe(true);
    expect(chunks.every((chunk) => chunk.object === 'text_completion' && chunk.id.startsWith('cmpl-'))).toBe(true);
    expect(chunks.slice(0, 3).map((chunk) => chunk.choices[0]!.text)).toEqual(['a', ' b', ' c']);
    expect(chunks[3]!.choices[0]).toMatchObject({ text: '', finish_reason: 'stop' });
    expect(chunks[4]).toMatchObject({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 3, total_tokens: 6 } });
  });
});

describe('server flags', () => {
  it('sends usage without asking under --enable-force-include-usage', async () => {
    const forced = await startSimulator({ enableForceIncludeUsage: true });
    try {
      const { events } = await streamChat({}, forced.url);
      expect(events.at(-1)).toMatchObject({ choices: [], usage: { completion_tokens: TEXT_TOKENS } });
    } finally {
      await forced.close();
    }
  });

  it('forces the output length with --output-tokens, still capped by max_tokens', async () => {
    const fixed = await startSimulator({ outputTokens: 7 });
    try {
      const ask = async (extra: Record<string, unknown>) =>
        jsonOf(await postJson(`${fixed.url}/v1/chat/completions`, { messages: MESSAGES, ...extra }));
      expect(await ask({})).toMatchObject({ choices: [{ finish_reason: 'stop' }], usage: { completion_tokens: 7 } });
      expect(await ask({ max_tokens: 5 })).toMatchObject({
        choices: [{ finish_reason: 'length' }],
        usage: { completion_tokens: 5 },
      });
    } finally {
      await fixed.close();
    }
  });

  it('answers preset sentences in random mode, the same for the same seed', async () => {
    const answers: string[] = [];
    for (let i = 0; i < 2; i++) {
      const random = await startSimulator({ mode: 'random', seed: 99 });
      const body = await jsonOf(await postJson(`${random.url}/v1/chat/completions`, { messages: MESSAGES }));
      const content = body.choices[0]!.message.content;
      answers.push(content);
      expect(body.usage.completion_tokens).toBe(countTokens(content));
      await random.close();
    }
    expect(answers[0]).toBe(answers[1]);
    expect(answers[0]).not.toBe(TEXT);
  });
});

describe('backpressure', () => {
  it('stops generating while the client does not read, and finishes once it does', async () => {
    const slow = await startSimulator({ ttftMs: 0, itlMs: 0, maxModelLen: 200_000 });
    try {
      const total = 100_000; // ~20 MB of events: far more than the socket buffers hold
      const generated = async () =>
        metricValue(await scrape(slow), 'vllm:generation_tokens_total', { model_name: 'cic-sim/echo-1' })!;
      const req = request(`${slow.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
      });
      req.end(JSON.stringify({ ...holdingChat(total), stream: true }));
      const [res] = (await once(req, 'response')) as [IncomingMessage];
      res.pause();

      const readings: number[] = [];
      while (readings.length < 3 || new Set(readings.slice(-3)).size > 1) {
        readings.push(await generated());
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(readings.at(-1)).toBeGreaterThan(0);
      expect(readings.at(-1)).toBeLessThan(total);
      expect(slow.stats.running).toBe(1);

      res.resume();
      await once(res, 'end');
      expect(await generated()).toBe(total);
      expect(slow.stats.completed).toBe(1);
    } finally {
      await slow.close();
    }
  });
});
