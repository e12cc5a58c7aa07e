import { z } from 'zod';
import { badRequest } from './errors.ts';
import type { JsonSchema } from './json-schema-value.ts';
import { MAX_LOGPROBS } from './logprobs.ts';
import { type PlannedToolCall, planToolCall, toolChoiceSchema, toolSchema } from './tool-choice.ts';
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
  /** Choices to generate (`n`). */
  n: number;
  /** The request's `seed`: choice i samples with seed + i, so choices differ and reruns repeat. */
  seed: number | undefined;
  /** Top logprobs per token when logprobs were asked for (chat `top_logprobs`, completions `logprobs`). */
  logprobs: number | undefined;
  /** Set when the answer is a tool call rather than text (chat only). */
  toolCall: PlannedToolCall | undefined;
  /** Structured output: the text is JSON (chat's and vLLM completions' `response_format`). */
  responseFormat: ResponseFormatRequest;
}

export type ResponseFormatRequest = { type: 'text' } | { type: 'json_object' } | { type: 'json_schema'; schema: JsonSchema };

const responseFormat = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('text') }),
  z.looseObject({ type: z.literal('json_object') }),
  z.looseObject({
    type: z.literal('json_schema'),
    json_schema: z.looseObject({
      name: z.string().min(1),
      schema: z.record(z.string(), z.unknown()).nullish(),
      strict: z.boolean().nullish(),
    }),
  }),
]);

const MAX_CHOICES = 128;

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
  // vLLM's SamplingParams: "n must be at least 1, got 0." The upper bound is the simulator's own: a
  // stand-in should not let one request allocate millions of choices.
  n: z
    .number()
    .int()
    .max(MAX_CHOICES, { error: `n must be at most ${MAX_CHOICES} in the simulator.` })
    .nullish()
    .refine((n) => n === null || n === undefined || n >= 1, { error: (issue) => `n must be at least 1, got ${String(issue.input)}.` }),
  // Any number: a client's 64-bit seed must not be refused for losing precision in a double.
  seed: z.number().nullish(),
  ignore_eos: z.boolean().nullish(),
  response_format: responseFormat.nullish(),
};

const logprobCount = (field: string) =>
  z
    .number()
    .int()
    .min(0, { error: `\`${field}\` must be a positive value.` })
    .max(MAX_LOGPROBS, { error: (issue) => `Requested sample logprobs of ${String(issue.input)}, which is greater than max allowed: ${MAX_LOGPROBS}` })
    .nullish();

const contentPart = z.looseObject({ type: z.string(), text: z.string().optional() });
const chatMessage = z.looseObject({
  role: z.string(),
  content: z.union([z.string(), z.array(contentPart)]).nullish(),
});

const chatBody = z.looseObject({
  ...common,
  messages: z.array(chatMessage).min(1),
  max_completion_tokens: z.number().int().min(1).nullish(),
  logprobs: z.boolean().nullish(),
  top_logprobs: logprobCount('top_logprobs'),
  tools: z.array(toolSchema).nullish(),
  tool_choice: toolChoiceSchema.nullish(),
});

const textBody = z.looseObject({
  ...common,
  prompt: z.union([z.string(), z.tuple([z.string()])], {
    error: 'prompt must be a string (batched and token-id prompts are not supported by the simulator)',
  }),
  logprobs: logprobCount('logprobs'),
});

export interface ServerToolFlags {
  /** `--enable-auto-tool-choice` together with a `--tool-call-parser`. */
  autoToolChoice: boolean;
}

/** OpenAI's legacy completions API, and vLLM after it, default `max_tokens` to 16. */
const TEXT_DEFAULT_MAX_TOKENS = 16;

export function parseCompletionRequest(kind: EndpointKind, body: unknown, flags: ServerToolFlags): CompletionRequest {
  if (kind === 'chat') {
    const data = validate(chatBody, body);
    const lastUser = data.messages.findLast((message) => message.role === 'user');
    const echoText = lastUser ? messageText(lastUser) : '';
    if ((data.top_logprobs ?? 0) > 0 && !data.logprobs) {
      throw badRequest('when using `top_logprobs`, `logprobs` must be set to true.', 'top_logprobs');
    }
    const last = data.messages.at(-1);
    return {
      ...commonFields(data),
      maxTokens: data.max_completion_tokens ?? data.max_tokens ?? undefined,
      promptTokens: chatPromptTokens(data.messages),
      echoText,
      logprobs: data.logprobs ? (data.top_logprobs ?? 0) : undefined,
      toolCall: toolCallOf(data, flags, last && { role: last.role, text: messageText(last) }, echoText),
    };
  }
  const data = validate(textBody, body);
  const prompt = typeof data.prompt === 'string' ? data.prompt : data.prompt[0];
  return {
    ...commonFields(data),
    maxTokens: data.max_tokens ?? TEXT_DEFAULT_MAX_TOKENS,
    promptTokens: tokenize(prompt),
    echoText: prompt,
    logprobs: data.logprobs ?? undefined,
    toolCall: undefined,
  };
}

type ChatBody = z.output<typeof chatBody>;

/** vLLM's checks on tools and tool_choice, then which tool (if any) the answer calls. */
function toolCallOf(
  data: ChatBody,
  flags: ServerToolFlags,
  lastMessage: { role: string; text: string } | undefined,
  lastUserText: string,
): PlannedToolCall | undefined {
  const tools = data.tools ?? [];
  const choice = data.tool_choice ?? (tools.length > 0 ? 'auto' : 'none');
  if (data.tool_choice && data.tool_choice !== 'none' && tools.length === 0) {
    throw badRequest('When using `tool_choice`, `tools` must be set.', 'tool_choice');
  }
  if (typeof choice === 'object' && !tools.some((tool) => tool.function.name === choice.function.name)) {
    throw badRequest(`Tool '${choice.function.name}' has not been passed in \`tools\`.`, 'tool_choice');
  }
  if (choice === 'auto' && !flags.autoToolChoice) {
    throw badRequest('"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set');
  }
  return planToolCall(tools, choice, lastMessage, lastUserText);
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

function commonFields(
  data: CommonBody,
): Omit<CompletionRequest, 'maxTokens' | 'promptTokens' | 'echoText' | 'logprobs' | 'toolCall'> {
  if (data.stream_options && !data.stream) {
    throw badRequest('Stream options can only be defined when `stream=True`.');
  }
  const format = data.response_format;
  return {
    n: data.n ?? 1,
    seed: data.seed ?? undefined,
    responseFormat:
      format?.type === 'json_schema'
        ? { type: 'json_schema', schema: format.json_schema.schema ?? {} }
        : { type: format?.type ?? 'text' },
    model: data.model ?? undefined,
    stream: data.stream ?? false,
    includeUsage: data.stream_options?.include_usage ?? undefined,
    continuousUsage: data.stream_options?.continuous_usage_stats ?? false,
    ignoreEos: data.ignore_eos ?? false,
  };
}
