import type { ServerResponse } from 'node:http';
import type { FinishReason, OutputPlan } from './output-plan.ts';
import { type ResponseFormat, type Usage, usageOf } from './response-format.ts';
import { DONE, openEventStream, writeEvent } from './sse.ts';

/** One generated token of choice `index`. */
export interface GeneratedToken {
  index: number;
  token: string;
}

export interface StreamInput {
  res: ServerResponse;
  format: ResponseFormat;
  plans: readonly OutputPlan[];
  tokens: AsyncIterable<GeneratedToken>;
  promptTokens: number;
  /** Tokens generated so far, all choices together; read at each chunk for continuous usage. */
  generated: () => number;
  /** A final `choices: []` chunk with usage (include_usage or --enable-force-include-usage). */
  includeUsage: boolean;
  /** vLLM's continuous_usage_stats: usage on every chunk. */
  continuousUsage: boolean;
  /** Injected stream_cut: drop the connection after this many content tokens. */
  cutAfter: number | undefined;
  signal: AbortSignal;
  /** Called right before the response ends, so the close that follows is not taken for an abort. */
  onSettled: () => void;
}

/**
 * Writes the SSE sequence vLLM sends: each choice's role chunk (and a tool call's header), then the
 * choices' tokens interleaved as they are generated, each choice's finish chunk right after its last
 * token, one usage chunk for all choices, [DONE]. Returns how the first choice ended.
 */
export async function streamTokens(input: StreamInput): Promise<FinishReason | 'cut'> {
  const { res, format, plans, signal } = input;
  const usage = (completionTokens = input.generated()): Usage | undefined =>
    input.continuousUsage ? usageOf(input.promptTokens, completionTokens) : undefined;
  const send = (data: object | undefined): Promise<void> =>
    data ? writeEvent(res, data, signal) : Promise.resolve();
  // vLLM announces the roles together with the first tokens, i.e. after time to first token.
  // The role chunks count no completion tokens, as in vLLM's continuous usage.
  const opening = async (): Promise<void> => {
    for (const index of plans.keys()) await send(format.roleChunk(index, usage(0)));
    for (const [index, plan] of plans.entries()) await send(format.toolCallChunk(index, plan, usage(0)));
  };

  openEventStream(res);
  let sent = 0;
  const offsets = plans.map(() => 0);
  const emitted = plans.map(() => 0);
  if (input.cutAfter === 0) return cut(input);
  for await (const { index, token } of input.tokens) {
    const plan = plans[index]!;
    if (sent === 0) await opening();
    sent++;
    await send(format.chunk(index, plan, token, offsets[index]!, usage()));
    offsets[index]! += [...token].length;
    if (sent === input.cutAfter) return cut(input);
    if (++emitted[index]! === plan.tokens.length) await send(format.finishChunk(index, plan, usage()));
  }
  if (sent === 0) await opening();
  for (const [index, plan] of plans.entries()) {
    if (plan.tokens.length === 0) await send(format.finishChunk(index, plan, usage()));
  }
  if (input.includeUsage) await send(format.usageChunk(usageOf(input.promptTokens, input.generated())));
  await writeEvent(res, DONE, signal);
  input.onSettled();
  res.end();
  return plans[0]!.finishReason;
}

function cut(input: StreamInput): 'cut' {
  input.onSettled();
  // No [DONE], no usage, no chunked terminator: the client sees a connection that died
  // mid-answer. destroySoon() flushes what was written first, so the cut lands after those tokens.
  const { socket } = input.res;
  if (socket) socket.destroySoon();
  else input.res.destroy();
  return 'cut';
}
