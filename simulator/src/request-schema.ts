import { z } from 'zod';
import { badRequest } from './errors.ts';
import { chatPromptTokens, messageText, tokenize } from './tokenizer.ts';

export type EndpointKind = 'chat' | 'text';

/** What the generation code needs from either endpoint's body, whatever its shape. */
export interface CompletionRequest {
  model: string | undefined;
  stream: boolean;
  includeUsage: boolean | undefined;
  continuousUsage: boolean;
  /** Explicit `max_tokens` / `max_completion_tokens`; unset means "until the context is full". */
  maxTokens: number | undefined;
  ignoreEos: boolean;
  promptTokens: string[];
  echoText: string;
}

// Loose objects: vLLM accepts many extensions (top_k, guided_json, …) that we simply ignore.
const common = {
  model: z.string().nullish(),
  stream: z.boolean().nullish(),
  stream_options: z
    .looseObject({
      include_usage: z.boolean().nullish(),
      continuous_usage_stats: z.boolean().nullish(),
    })
    .nullish(),
  max_tokens: z.number().int().min(1).nullish(),
  n: z.literal(1, { error: 'n > 1 is not supported by the simulator' }).nullish(),
  ignore_eos: z.boolean().nullish(),
};

const contentPart = z.looseObject({ type: z.string(), text: z.string().optional() });
const chatMessage = z.looseObject({
  role: z.string(),
  content: z.union([z.string(), z.array(contentPart)]).nullish(),
});

const chatBody = z.looseObject({
  ...common,
  messages: z.array(chatMessage).min(1),
  max_completion_tokens: z.number().int().min(1).nullish(),
});

const textBody = z.looseObject({
  ...common,
  prompt: z.union([z.string(), z.tuple([z.string()])], {
    error: 'prompt must be a string (batched and token-id prompts are not supported by the simulator)',
  }),
});

/** OpenAI's legacy completions API, and vLLM after it, default `max_tokens` to 16. */
const TEXT_DEFAULT_MAX_TOKENS = 16;

export function parseCompletionRequest(kind: EndpointKind, body: unknown): CompletionRequest {
  if (kind === 'chat') {
    const data = validate(chatBody, body);
    const lastUser = data.messages.findLast((message) => message.role === 'user');
    return {
      ...commonFields(data),
      maxTokens: data.max_completion_tokens ?? data.max_tokens ?? undefined,
      promptTokens: chatPromptTokens(data.messages),
      echoText: lastUser ? messageText(lastUser) : '',
    };
  }
  const data = validate(textBody, body);
  const prompt = typeof data.prompt === 'string' ? data.prompt : data.prompt[0];
  return {
    ...commonFields(data),
    maxTokens: data.max_tokens ?? TEXT_DEFAULT_MAX_TOKENS,
    promptTokens: tokenize(prompt),
    echoText: prompt,
  };
}

export function validate<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body);
  if (!result.success) {
    const issue = result.error.issues[0];
    const path = issue?.path.join('.');
    throw badRequest(`${path ? `${path}: ` : ''}${issue?.message ?? 'invalid request'}`, path || null);
  }
  return result.data;
}

type CommonBody = z.output<z.ZodObject<typeof common>>;

function commonFields(data: CommonBody): Omit<CompletionRequest, 'maxTokens' | 'promptTokens' | 'echoText'> {
  if (data.stream_options && !data.stream) {
    throw badRequest('Stream options can only be defined when `stream=True`.');
  }
  return {
    model: data.model ?? undefined,
    stream: data.stream ?? false,
    includeUsage: data.stream_options?.include_usage ?? undefined,
    continuousUsage: data.stream_options?.continuous_usage_stats ?? false,
    ignoreEos: data.ignore_eos ?? false,
  };
}
