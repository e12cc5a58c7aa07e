import type { ChatCompletionRequest, CompletionRequest, EmbeddingRequest } from './request-schemas.ts';

/*
 * Up-front token estimates for the rate limiter and for usage records when vLLM reports none. Without
 * the model's tokenizer at hand, a word (with its leading space) or a single symbol counts as one token:
 * close to BPE counts for English. The simulator's tokenizer follows the same rule, so against it the
 * estimate is exact.
 */
const TOKEN_PATTERN = /\s*[A-Za-z0-9]+|\s*[^\sA-Za-z0-9]|\s+$/gu;
/** A chat template's tokens around each message (`<|im_start|>`, role, newline, `<|im_end|>`). */
const CHAT_MESSAGE_OVERHEAD_TOKENS = 4;
/** The generation prompt that opens the assistant turn (`<|im_start|>`, `assistant`). */
const CHAT_REPLY_PRIMER_TOKENS = 2;

export function countTokens(text: string): number {
  return text.match(TOKEN_PATTERN)?.length ?? 0;
}

type ChatContent = string | null | undefined | ReadonlyArray<{ type: string; text?: string }>;

function contentTokens(content: ChatContent): number {
  if (typeof content === 'string') return countTokens(content);
  if (!content) return 0;
  let text = '';
  for (const part of content) if (part.type === 'text' && typeof part.text === 'string') text += part.text;
  return countTokens(text);
}

export function estimateChatPromptTokens(body: ChatCompletionRequest): number {
  let total = CHAT_REPLY_PRIMER_TOKENS;
  for (const message of body.messages as ReadonlyArray<{ content?: ChatContent }>) total += contentTokens(message.content) + CHAT_MESSAGE_OVERHEAD_TOKENS;
  return total;
}

/** A prompt or an embedding input: text, texts, token ids or lists of token ids. */
function countInputTokens(prompt: CompletionRequest['prompt']): number {
  if (typeof prompt === 'string') return countTokens(prompt);
  let total = 0;
  for (const item of prompt) {
    if (typeof item === 'string') total += countTokens(item);
    else if (typeof item === 'number') total += 1;
    else total += item.length;
  }
  return total;
}

export const estimateCompletionPromptTokens = (body: CompletionRequest): number => countInputTokens(body.prompt);

export const estimateEmbeddingInputTokens = (body: EmbeddingRequest): number => countInputTokens(body.input);

/** Completion tokens the request may generate: its max_tokens (× n), or `fallback` when unbounded. */
export function maxCompletionTokens(body: { max_tokens?: number | null; max_completion_tokens?: number | null; n?: number | null }, fallback: number): number {
  const max = body.max_completion_tokens ?? body.max_tokens ?? fallback;
  return max * (body.n ?? 1);
}
