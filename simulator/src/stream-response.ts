import type { ServerResponse } from 'node:http';
import type { FinishReason } from './output-plan.ts';
import { type ResponseFormat, type Usage, usageOf } from './response-format.ts';
import { DONE, openEventStream, writeEvent } from './sse.ts';

export interface StreamInput {
  res: ServerResponse;
  format: ResponseFormat;
  tokens: AsyncIterable<string>;
  finishReason: FinishReason;
  promptTokens: number;
  /** Tokens generated so far; read at each chunk for continuous usage. */
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

/** Writes the SSE sequence vLLM sends; returns how it ended. */
export async function streamTokens(input: StreamInput): Promise<FinishReason | 'cut'> {
  const { res, format, signal } = input;
  const usage = (completionTokens = input.generated()): Usage | undefined =>
    input.continuousUsage ? usageOf(input.promptTokens, completionTokens) : undefined;
  const send = (data: object | undefined): Promise<void> =>
    data ? writeEvent(res, data, signal) : Promise.resolve();

  openEventStream(res);
  let sent = 0;
  if (input.cutAfter === 0) return cut(input);
  for await (const token of input.tokens) {
    // vLLM announces the role together with the first token, i.e. after time to first token.
    // The role chunk counts no completion tokens, as in vLLM's continuous usage.
    if (sent === 0) await send(format.roleChunk(usage(0)));
    sent++;
    await send(format.chunk(token, null, usage()));
    if (sent === input.cutAfter) return cut(input);
  }
  if (sent === 0) await send(format.roleChunk(usage(0)));
  await send(format.chunk('', input.finishReason, usage()));
  if (input.includeUsage) await send(format.usageChunk(usageOf(input.promptTokens, input.generated())));
  await writeEvent(res, DONE, signal);
  input.onSettled();
  res.end();
  return input.finishReason;
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
