import type { OutputMode } from './options.ts';
import type { Random } from './prng.ts';
import { tokenize } from './tokenizer.ts';

export type FinishReason = 'stop' | 'length';

/** The tokens a request will produce and why it will stop, decided before generation starts. */
export interface OutputPlan {
  tokens: string[];
  finishReason: FinishReason;
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
  const base =
    input.mode === 'random' ? tokenize(input.random.pick(RANDOM_SENTENCES)) : tokenize(input.echoText);
  const wanted = input.ignoreEos ? input.maxTokens : input.outputTokens;
  const tokens = wanted === undefined ? base : repeatTo(base.length > 0 ? base : FILLER_TOKENS, wanted);
  if (tokens.length > input.maxTokens) {
    return { tokens: tokens.slice(0, input.maxTokens), finishReason: 'length' };
  }
  // With ignore_eos the model only stops at the cap, which vLLM reports as "length".
  return { tokens, finishReason: input.ignoreEos ? 'length' : 'stop' };
}

function repeatTo(tokens: readonly string[], length: number): string[] {
  const out: string[] = [];
  for (let i = 0; out.length < length; i = (i + 1) % tokens.length) out.push(tokens[i] as string);
  return out;
}
