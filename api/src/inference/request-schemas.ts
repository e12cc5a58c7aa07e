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

export const completionRequest = z.looseObject({
  ...common,
  prompt: z.union([z.string(), z.array(z.string()).min(1), z.array(z.number().int()).min(1), z.array(z.array(z.number().int()).min(1)).min(1)]),
});

export type ChatCompletionRequest = z.infer<typeof chatCompletionRequest>;
export type CompletionRequest = z.infer<typeof completionRequest>;

/** Parses with a schema or throws a 400 naming the first bad field as OpenAI's `param`. */
export function parseRequest<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AppError('BAD_REQUEST', 'Request body must be a JSON object.', { detail: 'invalid_request' });
  }
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const param = issue?.path.map(String).join('.') || null;
  const what = issue?.code === 'invalid_type' && issue.input === undefined ? 'is required' : `is invalid: ${issue?.message ?? 'invalid'}`;
  throw new AppError('BAD_REQUEST', `'${param ?? 'body'}' ${what}.`, { param, detail: issue?.input === undefined ? 'missing_required_parameter' : 'invalid_value' });
}
