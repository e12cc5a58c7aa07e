import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../src/server.ts';
import { countChatPromptTokens, countTokens } from '../src/tokenizer.ts';
import { jsonOf, postJson, startSimulator } from './helpers.ts';

const MODEL = 'test/echo-model';
let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({ model: MODEL, maxModelLen: 64 });
});
afterAll(() => sim.close());

const chat = (body: Record<string, unknown>) => postJson(`${sim.url}/v1/chat/completions`, body);
const completion = (body: Record<string, unknown>) => postJson(`${sim.url}/v1/completions`, body);

describe('GET /v1/models and /health', () => {
  it('lists the served model in vLLM shape', async () => {
    const response = await fetch(`${sim.url}/v1/models`);
    expect(response.status).toBe(200);
    const body = await jsonOf(response);
    expect(body).toEqual({
      object: 'list',
      data: [
        {
          id: MODEL,
          object: 'model',
          created: expect.any(Number),
          owned_by: 'vllm',
          root: MODEL,
          parent: null,
          max_model_len: 64,
          permission: [expect.objectContaining({ object: 'model_permission', id: expect.stringMatching(/^modelperm-/) })],
        },
      ],
    });
  });

  it('answers /health with 200 and an empty body', async () => {
    const response = await fetch(`${sim.url}/health`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('');
  });

  it('answers unknown paths and methods like FastAPI', async () => {
    expect((await fetch(`${sim.url}/v2/nothing`)).status).toBe(404);
    expect((await fetch(`${sim.url}/v1/chat/completions`)).status).toBe(405);
  });
});

describe('non-streamed completions', () => {
  it('returns a chat.completion with exact usage', async () => {
    const messages = [
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: 'Say: hello, simulator!' },
    ];
    const response = await chat({ model: MODEL, messages, top_k: 5, guided_json: null });
    expect(response.status).toBe(200);
    const body = await jsonOf(response);
    const completionTokens = countTokens('Say: hello, simulator!');
    expect(body).toEqual({
      id: expect.stringMatching(/^chatcmpl-[0-9a-f]+$/),
      object: 'chat.completion',
      created: expect.any(Number),
      model: MODEL,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'Say: hello, simulator!', tool_calls: [] },
          logprobs: null,
          finish_reason: 'stop',
          stop_reason: null,
        },
      ],
      usage: {
        prompt_tokens: countChatPromptTokens(messages),
        completion_tokens: completionTokens,
        total_tokens: countChatPromptTokens(messages) + completionTokens,
        prompt_tokens_details: null,
      },
    });
    expect(Math.abs(body.created - Date.now() / 1000)).toBeLessThan(60);
  });

  it('returns a text_completion, defaulting to the served model', async () => {
    const response = await completion({ prompt: 'The cat sat', max_tokens: 2 });
    const body = await jsonOf(response);
    expect(body).toMatchObject({
      id: expect.stringMatching(/^cmpl-[0-9a-f]+$/),
      object: 'text_completion',
      model: MODEL,
      choices: [{ index: 0, text: 'The cat', finish_reason: 'length' }],
      usage: { prompt_tokens: countTokens('The cat sat'), completion_tokens: 2, total_tokens: 5 },
    });
  });

  it('caps output at max_completion_tokens with finish_reason length', async () => {
    const body = await jsonOf(
      await chat({ messages: [{ role: 'user', content: 'one two three four' }], max_completion_tokens: 3 })
    );
    expect(body.choices[0]).toMatchObject({ message: { content: 'one two three' }, finish_reason: 'length' });
    expect(body.usage.completion_tokens).toBe(3);
  });
});

describe('errors', () => {
  it('404s an unknown model with vLLM’s body', async () => {
    const response = await chat({ model: 'nope/missing', messages: [{ role: 'user', content: 'hi' }] });
    expect(response.status).toBe(404);
    expect(await jsonOf(response)).toEqual({
      error: { message: 'The model `nope/missing` does not exist.', type: 'NotFoundError', param: 'model', code: 404 },
    });
  });

  it('400s a prompt longer than max_model_len', async () => {
    const content = Array.from({ length: 70 }, (_, i) => `w${i}`).join(' ');
    const response = await chat({ messages: [{ role: 'user', content }] });
    expect(response.status).toBe(400);
    const body = await jsonOf(response);
    expect(body.error).toMatchObject({ type: 'BadRequestError', code: 400 });
    expect(body.error.message).toContain("This model's maximum context length is 64 tokens");
  });

  it('400s when prompt + max_tokens exceed max_model_len', async () => {
    const response = await completion({ prompt: 'short prompt', max_tokens: 63 });
    expect(response.status).toBe(400);
    expect((await jsonOf(response)).error.message).toMatch(/you requested 65 tokens \(2 in the messages, 63 in the completion\)/);
  });

  it.each([
    ['bad JSON', '{"messages": ['],
    ['missing messages', { model: MODEL }],
    ['negative max_tokens', { messages: [{ role: 'user', content: 'x' }], max_tokens: -1 }],
    ['n < 1', { messages: [{ role: 'user', content: 'x' }], n: 0 }],
    ['stream_options without stream', { messages: [{ role: 'user', content: 'x' }], stream_options: { include_usage: true } }],
  ])('400s %s with a BadRequestError body', async (_name, body) => {
    const response = await postJson(`${sim.url}/v1/chat/completions`, body);
    expect(response.status).toBe(400);
    expect((await jsonOf(response)).error).toMatchObject({ type: 'BadRequestError', code: 400, message: expect.any(String) });
  });

  it('400s a completion without a prompt', async () => {
    expect((await completion({ max_tokens: 3 })).status).toBe(400);
  });
});
