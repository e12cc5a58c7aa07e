import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../src/server.ts';
import { countTokens, tokenize } from '../src/tokenizer.ts';
import { postJson, readSse, startSimulator } from './helpers.ts';

const TEXT = 'Four score and seven years ago';
const TOKENS = tokenize(TEXT);
const messages = [{ role: 'user' as const, content: TEXT }];

let sim: Simulator;
let client: OpenAI;
beforeAll(async () => {
  sim = await startSimulator();
  client = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});
afterAll(() => sim.close());

interface ChatChunkChoice {
  index: number;
  delta: { role?: string; content?: string };
  logprobs: { content: Array<{ token: string; logprob: number; bytes: number[]; top_logprobs: unknown[] }> } | null;
  finish_reason: string | null;
}

describe('n > 1', () => {
  it('answers n choices with their indexes; usage counts every choice’s tokens', async () => {
    const completion = await client.chat.completions.create({ model: sim.options.model, messages, n: 3, max_tokens: 4 });
    expect(completion.choices.map((choice) => [choice.index, choice.message.content, choice.finish_reason])).toEqual([
      [0, 'Four score and seven', 'length'],
      [1, 'Four score and seven', 'length'],
      [2, 'Four score and seven', 'length'],
    ]);
    expect(completion.usage).toMatchObject({ completion_tokens: 12 });
  });

  it('streams each choice’s chunks interleaved by index, then exactly one usage chunk', async () => {
    const response = await postJson(`${sim.url}/v1/chat/completions`, {
      messages,
      n: 2,
      stream: true,
      stream_options: { include_usage: true },
    });
    const { events, done } = await readSse(response);
    expect(done).toBe(true);
    const usageChunks = events.filter((event) => event.usage);
    expect(usageChunks).toHaveLength(1);
    expect(events.at(-1)).toBe(usageChunks[0]);
    expect(usageChunks[0]).toMatchObject({ choices: [], usage: { completion_tokens: 2 * TOKENS.length } });
    const choices = events.slice(0, -1).map((event) => {
      const list = event.choices as ChatChunkChoice[];
      expect(list).toHaveLength(1);
      return list[0]!;
    });
    expect(choices.slice(0, 2).map((choice) => [choice.index, choice.delta])).toEqual([
      [0, { role: 'assistant', content: '' }],
      [1, { role: 'assistant', content: '' }],
    ]);
    // Decoded in one batch: token k of choice 0, then token k of choice 1.
    const tokens = choices.slice(2).filter((choice) => choice.finish_reason === null);
    expect(tokens.map((choice) => choice.index)).toEqual(TOKENS.flatMap(() => [0, 1]));
    for (const index of [0, 1]) {
      const own = choices.filter((choice) => choice.index === index);
      expect(own.map((choice) => choice.delta.content ?? '').join('')).toBe(TEXT);
      expect(own.at(-1)).toMatchObject({ finish_reason: 'stop' });
    }
  });

  it('is assembled per choice by the SDK’s stream helper', async () => {
    const stream = client.chat.completions.stream({ model: sim.options.model, messages, n: 2 });
    const final = await stream.finalChatCompletion();
    expect(final.choices.map((choice) => [choice.index, choice.message.content])).toEqual([
      [0, TEXT],
      [1, TEXT],
    ]);
  });

  it('streams legacy completions per choice, one usage chunk', async () => {
    const response = await postJson(`${sim.url}/v1/completions`, {
      prompt: TEXT,
      n: 2,
      stream: true,
      stream_options: { include_usage: true },
    });
    const { events } = await readSse(response);
    expect(events.filter((event) => event.usage)).toHaveLength(1);
    for (const index of [0, 1]) {
      const own = events.flatMap((event) => event.choices as Array<{ index: number; text: string }>).filter((choice) => choice.index === index);
      expect(own.map((choice) => choice.text).join('')).toBe(TEXT);
    }
  });

  it('samples each choice with its own seed (random mode): choices differ, a seeded request repeats', async () => {
    const random = await startSimulator({ mode: 'random' });
    try {
      const ask = async () => {
        const response = await postJson(`${random.url}/v1/chat/completions`, { messages, n: 6, seed: 11 });
        return ((await response.json()) as { choices: Array<{ message: { content: string } }> }).choices.map((choice) => choice.message.content);
      };
      const texts = await ask();
      expect(new Set(texts).size).toBeGreaterThan(1);
      expect(await ask()).toEqual(texts);
    } finally {
      await random.close();
    }
  });

  it('400s an n above the simulator’s bound of 128', async () => {
    const response = await postJson(`${sim.url}/v1/chat/completions`, { messages, n: 129 });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { param: 'n', message: expect.stringMatching(/at most 128/) } });
  });

  it.each([0, -1])('400s n = %i in vLLM’s shape', async (n) => {
    const response = await postJson(`${sim.url}/v1/chat/completions`, { messages, n });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: { message: `n: n must be at least 1, got ${n}.`, type: 'BadRequestError', param: 'n', code: 400 },
    });
  });
});

describe('chat logprobs', () => {
  it('gives each token its logprob, bytes and top_logprobs (the sampled token first)', async () => {
    const completion = await client.chat.completions.create({
      model: sim.options.model,
      messages,
      logprobs: true,
      top_logprobs: 3,
      n: 2,
    });
    for (const choice of completion.choices) {
      const content = choice.logprobs!.content!;
      expect(content.map((entry) => entry.token)).toEqual(TOKENS);
      for (const entry of content) {
        expect(entry.logprob).toBeLessThanOrEqual(0);
        expect(entry.bytes).toEqual([...Buffer.from(entry.token)]);
        expect(entry.top_logprobs).toHaveLength(3);
        expect(entry.top_logprobs[0]).toEqual({ token: entry.token, logprob: entry.logprob, bytes: entry.bytes });
        const values = entry.top_logprobs.map((top) => top.logprob);
        expect([...values].sort((a, b) => b - a)).toEqual(values);
        expect(new Set(entry.top_logprobs.map((top) => top.token)).size).toBe(3);
      }
    }
    // Different seeds per choice.
    const [a, b] = completion.choices.map((choice) => choice.logprobs!.content!.map((entry) => entry.logprob));
    expect(a).not.toEqual(b);
  });

  it('repeats logprobs for the same request seed', async () => {
    const ask = async () =>
      (await client.chat.completions.create({ model: sim.options.model, messages, logprobs: true, seed: 42 })).choices[0]!.logprobs!.content;
    const first = await ask();
    expect(await ask()).toEqual(first);
    expect(first![0]!.top_logprobs).toEqual([]);
  });

  it('streams one logprobs entry per content chunk; none without logprobs', async () => {
    const stream = client.chat.completions.stream({ model: sim.options.model, messages, logprobs: true, top_logprobs: 2 });
    const final = await stream.finalChatCompletion();
    expect(final.choices[0]!.logprobs!.content!.map((entry) => entry.token)).toEqual(TOKENS);

    const plain = await readSse(await postJson(`${sim.url}/v1/chat/completions`, { messages, stream: true }));
    expect(plain.events.every((event) => (event.choices as ChatChunkChoice[]).every((choice) => choice.logprobs === null))).toBe(true);
  });

  it.each([
    ['top_logprobs without logprobs', { top_logprobs: 2 }, 'top_logprobs'],
    ['top_logprobs above 20', { logprobs: true, top_logprobs: 21 }, 'top_logprobs'],
    ['negative top_logprobs', { logprobs: true, top_logprobs: -1 }, 'top_logprobs'],
  ])('400s %s', async (_name, body, param) => {
    const response = await postJson(`${sim.url}/v1/chat/completions`, { messages, ...body });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { type: 'BadRequestError', param, code: 400 } });
  });
});

describe('completions logprobs', () => {
  interface CompletionLogprobs {
    tokens: string[];
    token_logprobs: number[];
    top_logprobs: Array<Record<string, number>>;
    text_offset: number[];
  }
  const offsets = (tokens: string[]) => tokens.map((_, i) => tokens.slice(0, i).join('').length);

  it('has tokens, token_logprobs, top_logprobs (dicts) and text_offset', async () => {
    const completion = await client.completions.create({ model: sim.options.model, prompt: TEXT, logprobs: 2 });
    const logprobs = completion.choices[0]!.logprobs as CompletionLogprobs;
    expect(logprobs.tokens).toEqual(TOKENS);
    expect(logprobs.text_offset).toEqual(offsets(TOKENS));
    logprobs.top_logprobs.forEach((top, i) => {
      expect(Object.keys(top)).toHaveLength(2);
      expect(top[TOKENS[i]!]).toBe(logprobs.token_logprobs[i]);
    });
    expect(completion.usage!.completion_tokens).toBe(countTokens(TEXT));
  });

  it('streams one token per chunk with cumulative text offsets', async () => {
    const response = await postJson(`${sim.url}/v1/completions`, { prompt: TEXT, logprobs: 0, stream: true });
    const { events } = await readSse(response);
    const steps = events
      .map((event) => (event.choices as Array<{ logprobs: CompletionLogprobs | null }>)[0]!.logprobs)
      .filter((logprobs) => logprobs !== null);
    expect(steps.flatMap((step) => step.tokens)).toEqual(TOKENS);
    expect(steps.flatMap((step) => step.text_offset)).toEqual(offsets(TOKENS));
    // logprobs: 0 still lists the sampled token, as vLLM does.
    for (const step of steps) expect(Object.keys(step.top_logprobs[0]!)).toEqual(step.tokens);
  });

  it('400s negative or too many logprobs', async () => {
    for (const logprobs of [-1, 21]) {
      const response = await postJson(`${sim.url}/v1/completions`, { prompt: TEXT, logprobs });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: { param: 'logprobs', code: 400 } });
    }
  });
});
