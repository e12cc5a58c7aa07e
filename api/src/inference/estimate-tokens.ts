import { countChatPromptTokens, countTokens } from '../simulator/tokenizer.ts';
import type { ChatCompletionRequest, CompletionRequest } from './request-schemas.ts';

/*
 * Up-front token estimates for the rate limiter and for usage records when vLLM reports none. The
 * simulator's deterministic tokenizer stands in for the model's: it is close to BPE counts for English
 * (a word or a symbol per token) and exact against the simulator.
 */

export function estimateChatPromptTokens(body: ChatCompletionRequest): number {
  return countChatPromptTokens(body.messages as Parameters<typeof countChatPromptTokens>[0]);
}

export function estimateCompletionPromptTokens(body: CompletionRequest): number {
  const { prompt } = body;
  if (typeof prompt === 'string') return countTokens(prompt);
  let total = 0;
  for (const item of prompt) {
    if (typeof item === 'string') total += countTokens(item);
    else if (typeof item === 'number') total += 1;
    else total += item.length;
  }
  return total;
}

/** Completion tokens the request may generate: its max_tokens (× n), or `fallback` when unbounded. */
export function maxCompletionTokens(body: { max_tokens?: number | null; max_completion_tokens?: number | null; n?: number | null }, fallback: number): number {
  const max = body.max_completion_tokens ?? body.max_tokens ?? fallback;
  return max * (body.n ?? 1);
}
