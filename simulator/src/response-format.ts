import { randomBytes } from 'node:crypto';
import type { FinishReason } from './output-plan.ts';
import type { EndpointKind } from './request-schema.ts';

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export const usageOf = (promptTokens: number, completionTokens: number): Usage => ({
  prompt_tokens: promptTokens,
  completion_tokens: completionTokens,
  total_tokens: promptTokens + completionTokens,
});

/** Builds the wire objects of one response; chat and legacy completions differ only here. */
export interface ResponseFormat {
  readonly id: string;
  readonly created: number;
  /** The first chunk of a chat stream announces the role; completions have none. */
  roleChunk(usage?: Usage): object | undefined;
  chunk(text: string, finishReason: FinishReason | null, usage?: Usage): object;
  usageChunk(usage: Usage): object;
  whole(text: string, finishReason: FinishReason, usage: Usage): object;
}

export function createResponseFormat(kind: EndpointKind, model: string): ResponseFormat {
  const id = `${kind === 'chat' ? 'chatcmpl' : 'cmpl'}-${randomBytes(16).toString('hex')}`;
  const created = Math.floor(Date.now() / 1000);
  const chunkObject = kind === 'chat' ? 'chat.completion.chunk' : 'text_completion';
  const envelope = (choices: object[], usage?: Usage): object => ({
    id,
    object: chunkObject,
    created,
    model,
    choices,
    ...(usage ? { usage } : {}),
  });
  // vLLM adds stop_reason (the matched stop string or token) once a choice finishes.
  const finish = (finishReason: FinishReason | null): object =>
    finishReason ? { finish_reason: finishReason, stop_reason: null } : { finish_reason: null };

  return {
    id,
    created,
    roleChunk(usage) {
      if (kind !== 'chat') return undefined;
      const choice = { index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null };
      return envelope([choice], usage);
    },
    chunk(text, finishReason, usage) {
      const body = kind === 'chat' ? { delta: { content: text } } : { text };
      return envelope([{ index: 0, ...body, logprobs: null, ...finish(finishReason) }], usage);
    },
    usageChunk: (usage) => envelope([], usage),
    whole(text, finishReason, usage) {
      const choice =
        kind === 'chat'
          ? { index: 0, message: { role: 'assistant', content: text, tool_calls: [] }, logprobs: null }
          : { index: 0, text, logprobs: null };
      return {
        id,
        object: kind === 'chat' ? 'chat.completion' : 'text_completion',
        created,
        model,
        choices: [{ ...choice, ...finish(finishReason) }],
        usage: { ...usage, prompt_tokens_details: null },
      };
    },
  };
}
