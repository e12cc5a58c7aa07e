import { randomBytes } from 'node:crypto';
import { chatLogprob, completionLogprobs } from './logprobs.ts';
import type { FinishReason, OutputPlan } from './output-plan.ts';
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

/** One choice's generated tokens, for a whole (non-streamed) answer. */
export interface FinishedChoice {
  plan: OutputPlan;
  tokens: readonly string[];
}

/** Builds the wire objects of one response; chat and legacy completions differ only here. */
export interface ResponseFormat {
  readonly id: string;
  readonly created: number;
  /** The first chunk of each chat choice announces the role; completions have none. */
  roleChunk(index: number, usage?: Usage): object | undefined;
  /** A chat tool call's first delta: its id, type and name, with empty arguments (as vLLM's parsers send). */
  toolCallChunk(index: number, plan: OutputPlan, usage?: Usage): object | undefined;
  /** One generated token of choice `index`; `offset` is the characters this choice already produced. */
  chunk(index: number, plan: OutputPlan, token: string, offset: number, usage?: Usage): object;
  finishChunk(index: number, plan: OutputPlan, usage?: Usage): object;
  usageChunk(usage: Usage): object;
  whole(choices: readonly FinishedChoice[], usage: Usage): object;
}

export function createResponseFormat(kind: EndpointKind, model: string, logprobs: number | undefined): ResponseFormat {
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
  const logprobsOf = (plan: OutputPlan, tokens: readonly string[], offset: number): object | null => {
    if (logprobs === undefined) return null;
    if (kind === 'text') return completionLogprobs(plan.random, tokens, logprobs, offset);
    return { content: tokens.map((token) => chatLogprob(plan.random, token, logprobs)) };
  };
  const toolCallOf = (plan: OutputPlan, args: string) => ({
    id: plan.toolCall!.id,
    type: 'function',
    function: { name: plan.toolCall!.name, arguments: args },
  });

  return {
    id,
    created,
    roleChunk(index, usage) {
      if (kind !== 'chat') return undefined;
      const choice = { index, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null };
      return envelope([choice], usage);
    },
    toolCallChunk(index, plan, usage) {
      if (kind !== 'chat' || !plan.toolCall) return undefined;
      const delta = { tool_calls: [{ index: 0, ...toolCallOf(plan, '') }] };
      return envelope([{ index, delta, logprobs: null, finish_reason: null }], usage);
    },
    chunk(index, plan, token, offset, usage) {
      const body =
        kind === 'text'
          ? { text: token }
          : { delta: plan.toolCall ? { tool_calls: [{ index: 0, function: { arguments: token } }] } : { content: token } };
      return envelope([{ index, ...body, logprobs: logprobsOf(plan, [token], offset), finish_reason: null }], usage);
    },
    finishChunk(index, plan, usage) {
      const body = kind === 'text' ? { text: '' } : { delta: plan.toolCall ? {} : { content: '' } };
      return envelope([{ index, ...body, logprobs: null, ...finish(plan.finishReason) }], usage);
    },
    usageChunk: (usage) => envelope([], usage),
    whole(choices, usage) {
      return {
        id,
        object: kind === 'chat' ? 'chat.completion' : 'text_completion',
        created,
        model,
        choices: choices.map(({ plan, tokens }, index) => {
          const text = tokens.join('');
          const logprobs = logprobsOf(plan, tokens, 0);
          const body =
            kind === 'text'
              ? { text }
              : {
                  message: plan.toolCall
                    ? { role: 'assistant', content: plan.toolCall.content, tool_calls: [toolCallOf(plan, text)] }
                    : { role: 'assistant', content: text, tool_calls: [] },
                };
          return { index, ...body, logprobs, ...finish(plan.finishReason) };
        }),
        usage: { ...usage, prompt_tokens_details: null },
      };
    },
  };
}
