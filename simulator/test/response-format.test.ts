import OpenAI from 'openai';
import { zodResponseFormat } from 'openai/helpers/zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Simulator } from '../src/server.ts';
import { countTokens } from '../src/tokenizer.ts';
import { postJson, startSimulator } from './helpers.ts';

let sim: Simulator;
let client: OpenAI;
beforeAll(async () => {
  sim = await startSimulator({ maxModelLen: 4096 });
  client = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});
afterAll(() => sim.close());

const Address = z.object({ street: z.string().min(5), zip: z.string().max(2) });
const Person = z.object({
  name: z.string(),
  age: z.number().int().min(18).max(120),
  score: z.number().gt(0.5),
  role: z.enum(['admin', 'member']),
  active: z.boolean(),
  nickname: z.string().nullable(),
  tags: z.array(z.string()).min(2),
  home: Address,
  previous: z.array(Address),
  contact: z.union([z.object({ email: z.email() }), z.object({ phone: z.string() })]),
});
const messages = [{ role: 'user' as const, content: 'Describe a person.' }];

describe('response_format', () => {
  it('json_schema: the SDK’s parse() validates the answer against a nested zod schema', async () => {
    const completion = await client.chat.completions.parse({
      model: sim.options.model,
      messages,
      response_format: zodResponseFormat(Person, 'person'),
    });
    const { parsed, content } = completion.choices[0]!.message;
    expect(Person.parse(parsed)).toEqual(JSON.parse(content!));
    expect(completion.choices[0]!.finish_reason).toBe('stop');
  });

  it('json_schema streamed: the stream helper assembles the same valid JSON', async () => {
    const stream = client.chat.completions.stream({
      model: sim.options.model,
      messages,
      response_format: zodResponseFormat(Person, 'person'),
      stream_options: { include_usage: true },
    });
    let deltas = 0;
    stream.on('content.delta', () => deltas++);
    const final = await stream.finalChatCompletion();
    expect(deltas).toBeGreaterThan(10);
    expect(Person.safeParse(final.choices[0]!.message.parsed).success).toBe(true);
    expect(final.usage!.completion_tokens).toBe(countTokens(final.choices[0]!.message.content!));
  });

  it.each([
    ['$defs and $ref', { type: 'object', properties: { a: { $ref: '#/$defs/item' } }, required: ['a'], $defs: { item: { type: 'array', items: { type: 'integer', multipleOf: 5, minimum: 3 }, minItems: 3, maxItems: 3 } } }],
    ['type lists, const and allOf', { type: 'object', properties: { x: { type: ['null', 'number'], exclusiveMaximum: -2 }, k: { const: 'fixed' }, m: { allOf: [{ type: 'string' }, { minLength: 4 }] } }, required: ['x', 'k', 'm'] }],
    ['a top-level array', { type: 'array', items: { type: 'object', properties: { d: { type: 'string', format: 'date-time' } }, required: ['d'] } }],
  ])('json_schema with %s validates (zod reads the schema)', async (_name, schema) => {
    const completion = await client.chat.completions.create({
      model: sim.options.model,
      messages,
      response_format: { type: 'json_schema', json_schema: { name: 'x', schema, strict: true } },
    });
    const value = JSON.parse(completion.choices[0]!.message.content!) as unknown;
    expect(z.fromJSONSchema(schema as never).safeParse(value)).toMatchObject({ success: true });
  });

  it('json_object answers a JSON object', async () => {
    const completion = await client.chat.completions.create({ model: sim.options.model, messages, response_format: { type: 'json_object' } });
    const value = JSON.parse(completion.choices[0]!.message.content!) as unknown;
    expect(value).toEqual({ text: 'Describe a person.' });
  });

  it('keeps JSON valid under --output-tokens and ignore_eos; max_tokens still cuts it', async () => {
    const fixed = await startSimulator({ outputTokens: 50 });
    try {
      const ask = async (extra: Record<string, unknown>) =>
        (await (
          await postJson(`${fixed.url}/v1/chat/completions`, { messages, response_format: { type: 'json_object' }, ...extra })
        ).json()) as { choices: Array<{ message: { content: string }; finish_reason: string }> };
      const padded = await ask({ ignore_eos: true, max_tokens: 100 });
      expect(JSON.parse(padded.choices[0]!.message.content)).toEqual({ text: 'Describe a person.' });
      expect(padded.choices[0]!.finish_reason).toBe('stop');
      const cut = await ask({ max_tokens: 3 });
      expect(cut.choices[0]).toEqual(expect.objectContaining({ finish_reason: 'length', message: expect.objectContaining({ content: '{"text' }) }));
    } finally {
      await fixed.close();
    }
  });

  it('400s a json_schema response_format without its json_schema', async () => {
    const response = await postJson(`${sim.url}/v1/chat/completions`, { messages, response_format: { type: 'json_schema' } });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { type: 'BadRequestError', code: 400, param: 'response_format.json_schema' } });
  });
});
