import { z } from 'zod';
import { AppError } from '@cic/core/errors';

/*
 * OpenAI's request shapes, checked only as far as the proxy must trust them (model, stream, token bounds,
 * message structure). Unknown fields are kept (`looseObject`) and reach vLLM untouched, so vLLM-specific
 * parameters (top_k, guided_json, …) keep working.
 */

const maxTokens = z.number().int().min(1).nullish();
const streamOptions = z.looseObject({ include_usage: z.boolean().nullish() }).nullish();

const common = {
  model: z.string().min(1).max(256),
  stream: z.boolean().nullish(),
  stream_options: streamOptions,
  max_tokens: maxTokens,
  n: z.number().int().min(1).max(128).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
};

const contentPart = z.looseObject({ type: z.string(), text: z.string().optional() });

const chatMessage = z.looseObject({
  role: z.string().min(1),
  content: z.union([z.string(), z.array(contentPart), z.null()]).optional(),
});

export const chatCompletionRequest = z.looseObject({
  ...common,
  messages: z.array(chatMessage).min(1),
  max_completion_tokens: maxTokens,
});

/** Token ids: what a prompt or an embedding input may be instead of text. */
const tokenIds = z.array(z.number().int()).min(1);

export const completionRequest = z.looseObject({
  ...common,
  prompt: z.union([z.string(), z.array(z.string()).min(1), tokenIds, z.array(tokenIds).min(1)]),
});

/** OpenAI refuses empty input ("'$.input' is invalid"); vLLM would embed it. One empty string in a list too. */
export const embeddingRequest = z.looseObject({
  model: common.model,
  input: z.union([z.string().min(1), z.array(z.string().min(1)).min(1), tokenIds, z.array(tokenIds).min(1)]),
  encoding_format: z.enum(['float', 'base64']).nullish(),
  dimensions: z.number().int().min(1).nullish(),
  // Embeddings are never streamed: refused here rather than relayed as an event stream vLLM does not send.
  stream: z.literal(false).nullish(),
});

export type ChatCompletionRequest = z.infer<typeof chatCompletionRequest>;
export type CompletionRequest = z.infer<typeof completionRequest>;
export type EmbeddingRequest = z.infer<typeof embeddingRequest>;
/** Any body the proxy forwards. */
export type ProxiedRequest = ChatCompletionRequest | CompletionRequest | EmbeddingRequest;

/** The JSON type of a value in OpenAI's words ("a string", "an integer"…). */
function jsonTypeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer' : 'a decimal';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

const EXPECTED: Record<string, string> = { number: 'a number', int: 'an integer', string: 'a string', boolean: 'a boolean', object: 'an object', array: 'an array' };

/** The value at `path` in the body, and whether the field is there at all (JSON has no undefined). */
function fieldAt(body: unknown, path: readonly PropertyKey[]): { present: boolean; value: unknown } {
  let value = body;
  for (const key of path) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, key)) return { present: false, value: undefined };
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return { present: true, value };
}

/**
 * Parses with a schema or throws a 400 in OpenAI's terms for the first bad field (`param`): an absent field is
 * `missing_required_parameter`, a value of the wrong JSON type `invalid_type`, any other rule `invalid_value`.
 */
export function parseRequest<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AppError('BAD_REQUEST', 'Request body must be a JSON object.', { detail: 'invalid_request' });
  }
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const param = issue.path.map(String).join('.') || null;
  const name = param ?? 'body';
  // Zod does not report the input by default: read the field from the body itself.
  const field = fieldAt(value, issue.path);
  if (!field.present) throw new AppError('BAD_REQUEST', `Missing required parameter: '${name}'.`, { param, detail: 'missing_required_parameter' });
  if (issue.code === 'invalid_type') {
    const expected = EXPECTED[issue.expected] ?? issue.expected;
    throw new AppError('BAD_REQUEST', `Invalid type for '${name}': expected ${expected}, but got ${jsonTypeOf(field.value)} instead.`, { param, detail: 'invalid_type' });
  }
  throw new AppError('BAD_REQUEST', `Invalid value for '${name}': ${issue.message}.`, { param, detail: 'invalid_value' });
}
