import OpenAI from 'openai';
import type { ChatCompletionTool } from 'openai/resources/chat/completions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Simulator } from '../src/server.ts';
import { postJson, readSse, startSimulator } from './helpers.ts';

const PARAMETERS = {
  type: 'object',
  properties: {
    city: { type: 'string', minLength: 2 },
    unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
    days: { type: 'integer', minimum: 1, maximum: 7 },
    options: {
      type: 'object',
      properties: { hourly: { type: 'boolean' }, fields: { type: 'array', items: { type: 'string' }, minItems: 2 } },
      required: ['hourly', 'fields'],
    },
    note: { type: 'string' },
  },
  required: ['city', 'unit', 'days', 'options'],
  additionalProperties: false,
};
const WEATHER: ChatCompletionTool = {
  type: 'function',
  function: { name: 'get_weather', description: 'Forecast for a city', parameters: PARAMETERS },
};
const CLOCK: ChatCompletionTool = { type: 'function', function: { name: 'get_time', parameters: { type: 'object', properties: {} } } };
// What any valid arguments must satisfy, checked by zod's own JSON-schema reader.
const validArguments = z.fromJSONSchema(PARAMETERS as never);

let sim: Simulator;
let auto: Simulator;
let client: OpenAI;
let autoClient: OpenAI;
beforeAll(async () => {
  sim = await startSimulator();
  auto = await startSimulator({ enableAutoToolChoice: true, toolCallParser: 'hermes' });
  client = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  autoClient = new OpenAI({ baseURL: `${auto.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});
afterAll(async () => {
  await sim.close();
  await auto.close();
});

const ask = (content: string) => [{ role: 'user' as const, content }];
const TOOL_ID = /^chatcmpl-tool-[0-9a-f]{32}$/;

describe('tool calls, not streamed', () => {
  it('calls a named tool with arguments that validate against its parameters (finish_reason stop, as vLLM)', async () => {
    const completion = await client.chat.completions.create({
      messages: ask('What will the weather be?'),
      model: sim.options.model,
      tools: [CLOCK, WEATHER],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
    });
    const [choice] = completion.choices;
    expect(choice).toMatchObject({ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: '' } });
    const [call] = choice!.message.tool_calls!;
    expect(call).toMatchObject({ id: expect.stringMatching(TOOL_ID), type: 'function', function: { name: 'get_weather' } });
    const args = JSON.parse((call as { function: { arguments: string } }).function.arguments) as unknown;
    expect(validArguments.safeParse(args).success).toBe(true);
    expect(Object.keys(args as object).sort()).toEqual(['city', 'days', 'options', 'unit']);
    expect(completion.usage!.completion_tokens).toBeGreaterThan(0);
  });

  it('with "required" calls the tool the prompt names, finish_reason tool_calls', async () => {
    const completion = await client.chat.completions.create({
      messages: ask('please use get_time'),
      model: sim.options.model,
      tools: [WEATHER, CLOCK],
      tool_choice: 'required',
    });
    expect(completion.choices[0]).toMatchObject({
      finish_reason: 'tool_calls',
      message: { content: '', tool_calls: [{ type: 'function', function: { name: 'get_time', arguments: '{}' } }] },
    });
  });

  it('with "auto" calls a tool the last user message names, else answers in text', async () => {
    const called = await autoClient.chat.completions.create({
      messages: ask('Call get_weather for Paris'),
      model: auto.options.model,
      tools: [WEATHER, CLOCK],
    });
    expect(called.choices[0]).toMatchObject({ finish_reason: 'tool_calls', message: { content: null } });
    expect(called.choices[0]!.message.tool_calls).toHaveLength(1);
    const plain = await autoClient.chat.completions.create({
      messages: ask('Just say hello'),
      model: auto.options.model,
      tools: [WEATHER],
      tool_choice: 'auto',
    });
    expect(plain.choices[0]).toMatchObject({ finish_reason: 'stop', message: { content: 'Just say hello', tool_calls: [] } });
  });

  it('runs a tool loop with the SDK’s runTools: the call’s arguments parse and the answer follows the result', async () => {
    const seen: unknown[] = [];
    const runner = autoClient.chat.completions.runTools({
      model: auto.options.model,
      messages: ask('What does get_weather say?'),
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            description: 'Forecast for a city',
            parameters: PARAMETERS,
            parse: JSON.parse,
            function: (args: unknown) => {
              seen.push(args);
              return 'sunny';
            },
          },
        },
      ],
    });
    expect(await runner.finalContent()).toBe('What does get_weather say?');
    expect(seen).toHaveLength(1);
    expect(validArguments.safeParse(seen[0]).success).toBe(true);
    expect(runner.messages.map((message) => message.role)).toEqual(['user', 'assistant', 'tool', 'assistant']);
  });
});

describe('tool calls, streamed', () => {
  it('sends the call’s id, type and name with empty arguments first, then argument fragments', async () => {
    const request = {
      messages: ask('weather?'),
      tools: [WEATHER],
      tool_choice: 'required',
      stream: true,
      stream_options: { include_usage: true },
    };
    const { events, done } = await readSse(await postJson(`${sim.url}/v1/chat/completions`, request));
    expect(done).toBe(true);
    type Delta = { role?: string; content?: string; tool_calls?: Array<Record<string, unknown> & { function: { name?: string; arguments: string } }> };
    const choices = events.flatMap((event) => event.choices as Array<{ index: number; delta: Delta; finish_reason: string | null }>);
    expect(choices[0]).toMatchObject({ index: 0, delta: { role: 'assistant', content: '' } });
    expect(choices[1]!.delta).toEqual({
      tool_calls: [{ index: 0, id: expect.stringMatching(TOOL_ID), type: 'function', function: { name: 'get_weather', arguments: '' } }],
    });
    const fragments = choices.slice(2, -1);
    expect(fragments.length).toBeGreaterThan(3);
    for (const fragment of fragments) {
      expect(Object.keys(fragment.delta)).toEqual(['tool_calls']);
      expect(Object.keys(fragment.delta.tool_calls![0]!)).toEqual(['index', 'function']);
    }
    const args = fragments.map((fragment) => fragment.delta.tool_calls![0]!.function.arguments).join('');
    expect(validArguments.safeParse(JSON.parse(args)).success).toBe(true);
    expect(choices.at(-1)).toMatchObject({ finish_reason: 'tool_calls', delta: {} });
    expect(events.at(-1)).toMatchObject({ choices: [], usage: { completion_tokens: fragments.length } });

    const whole = await client.chat.completions.create({ messages: ask('weather?'), model: sim.options.model, tools: [WEATHER], tool_choice: 'required' });
    expect(args).toBe(whole.choices[0]!.message.tool_calls![0]!.type === 'function' && whole.choices[0]!.message.tool_calls![0]!.function.arguments);
  });

  it('accumulates in the SDK’s chat.completions.stream helper', async () => {
    const stream = autoClient.chat.completions.stream({
      model: auto.options.model,
      messages: ask('use get_weather now'),
      tools: [WEATHER],
    });
    const done: string[] = [];
    stream.on('tool_calls.function.arguments.done', (event) => done.push(event.arguments));
    const final = await stream.finalChatCompletion();
    const [call] = final.choices[0]!.message.tool_calls!;
    expect(final.choices[0]!.finish_reason).toBe('tool_calls');
    expect(call).toMatchObject({ id: expect.stringMatching(TOOL_ID), function: { name: 'get_weather' } });
    expect(done).toHaveLength(1);
    expect(validArguments.safeParse(JSON.parse(done[0]!)).success).toBe(true);
  });
});

describe('tool call validation', () => {
  const chat = (body: Record<string, unknown>, url = sim.url) =>
    postJson(`${url}/v1/chat/completions`, { messages: ask('x'), ...body });

  it.each([
    ['a named tool not in tools', { tools: [WEATHER], tool_choice: { type: 'function', function: { name: 'nope' } } }, /Tool 'nope' has not been passed in `tools`/, 'tool_choice'],
    ['an unknown tool_choice', { tools: [WEATHER], tool_choice: 'sometimes' }, /Invalid value for `tool_choice`/, 'tool_choice'],
    ['tool_choice without tools', { tool_choice: 'required' }, /`tools` must be set/, 'tool_choice'],
    ['"auto" without --enable-auto-tool-choice', { tools: [WEATHER] }, /"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser/, null],
    ['a tool without a name', { tools: [{ type: 'function', function: {} }], tool_choice: 'required' }, /./, 'tools.0.function.name'],
  ])('400s %s in vLLM’s error shape', async (_name, body, message, param) => {
    const response = await chat(body);
    expect(response.status).toBe(400);
    const json = (await response.json()) as { error: { message: string } };
    expect(json).toEqual({ error: { message: expect.stringMatching(message), type: 'BadRequestError', param, code: 400 } });
  });

  it('needs both --enable-auto-tool-choice and --tool-call-parser for "auto"', async () => {
    const half = await startSimulator({ enableAutoToolChoice: true });
    try {
      expect((await chat({ tools: [WEATHER], tool_choice: 'auto' }, half.url)).status).toBe(400);
      expect((await chat({ tools: [WEATHER], tool_choice: 'auto' }, auto.url)).status).toBe(200);
    } finally {
      await half.close();
    }
  });
});
