import type { OutputMode } from './options.ts';
import { valueForSchema } from './json-schema-value.ts';
import type { Random } from './prng.ts';
import type { ResponseFormatRequest } from './request-schema.ts';
import type { PlannedToolCall } from './tool-choice.ts';
import { tokenize } from './tokenizer.ts';

export type FinishReason = 'stop' | 'length' | 'tool_calls';

/** The tokens one choice will produce and why it will stop, decided before generation starts. */
export interface OutputPlan {
  tokens: string[];
  finishReason: FinishReason;
  /** The tokens are this call's arguments (JSON), not message content. */
  toolCall?: PlannedToolCall & { id: string };
  /** This choice's own PRNG (its seed is the request's plus the choice index): logprob values. */
  random: Random;
}

export interface PlanOutputInput {
  mode: OutputMode;
  random: Random;
  /** The text echo mode repeats: the last user message, or the completion prompt. */
  echoText: string;
  /** Effective cap: `max_tokens`, or what is left of the context window. */
  maxTokens: number;
  /** `--output-tokens`: exact length wanted regardless of the text. */
  outputTokens?: number | undefined;
  /** vLLM's `ignore_eos`: keep going until `maxTokens`, as benchmark clients ask. */
  ignoreEos?: boolean | undefined;
  /** JSON output: what guided decoding would constrain the text to. */
  responseFormat?: ResponseFormatRequest | undefined;
  /** The answer is this call's arguments, generated from its parameters schema. */
  toolCall?: (PlannedToolCall & { id: string }) | undefined;
}

const RANDOM_SENTENCES = [
  'The quick brown fox jumps over the lazy dog.',
  'To be or not to be, that is the question.',
  'I am fine, thank you for asking.',
  'Testing, testing, one, two, three.',
  'The weather today is mild, with a light breeze from the west.',
  'Inference is cheap when the batch is full and the cache is warm.',
  'A journey of a thousand miles begins with a single step.',
  'Please hold while your request is being processed.',
];

// Used when echo mode has nothing to repeat but a fixed length was asked for.
const FILLER_TOKENS = tokenize(' sim');

export function planOutput(input: PlanOutputInput): OutputPlan {
  const { random, toolCall } = input;
  const base = tokenize(outputText(input));
  // JSON (a tool call's arguments, structured output) ends where its grammar ends: padding it to
  // --output-tokens or ignore_eos would only make it invalid. max_tokens still cuts it.
  const structured = toolCall !== undefined || (input.responseFormat ?? { type: 'text' }).type !== 'text';
  const wanted = structured ? undefined : input.ignoreEos ? input.maxTokens : input.outputTokens;
  const tokens = wanted === undefined ? base : repeatTo(base.length > 0 ? base : FILLER_TOKENS, wanted);
  const call = toolCall ? { toolCall } : {};
  if (tokens.length > input.maxTokens) {
    return { tokens: tokens.slice(0, input.maxTokens), finishReason: 'length', random, ...call };
  }
  // With ignore_eos the model only stops at the cap, which vLLM reports as "length".
  const finishReason = input.ignoreEos && !structured ? 'length' : (toolCall?.finishReason ?? 'stop');
  return { tokens, finishReason, random, ...call };
}

function outputText(input: PlanOutputInput): string {
  if (input.toolCall) return JSON.stringify(valueForSchema(input.toolCall.parameters));
  const format = input.responseFormat;
  if (format?.type === 'json_schema') return JSON.stringify(valueForSchema(format.schema));
  const text = input.mode === 'random' ? input.random.pick(RANDOM_SENTENCES) : input.echoText;
  return format?.type === 'json_object' ? JSON.stringify({ text }) : text;
}

function repeatTo(tokens: readonly string[], length: number): string[] {
  const out: string[] = [];
  for (let i = 0; out.length < length; i = (i + 1) % tokens.length) out.push(tokens[i] as string);
  return out;
}
