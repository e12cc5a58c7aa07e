import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import type { AdmissionProgress } from './admission-journal.ts';
import { upstreamReason } from './call-upstream.ts';
import { SseRelay, type UpstreamUsage } from './sse-relay.ts';
import { ServerShutdown } from '../http/server-shutdown.ts';

export interface StreamResult {
  usage: UpstreamUsage | undefined;
  /** Chunks that carried text (the completion estimate when usage is missing). */
  tokenEvents: number;
  /** performance.now() of the first body byte. */
  firstByteAt: number | undefined;
  /** How the stream ended when it did not end well. */
  failure: 'client_aborted' | 'server_shutdown' | 'upstream_timeout' | 'upstream_stream_cut' | 'upstream_error_event' | null;
}

const LF = 0x0a;

function errorEvent(code: string, message: string): string {
  return `data: ${JSON.stringify({ error: { message, type: 'server_error', param: null, code } })}\n\n`;
}

/**
 * Pipes a vLLM event stream to the client with backpressure (a slow reader pauses the upstream read).
 * If the upstream breaks off (connection cut, idle timeout, no `[DONE]`) the client gets an OpenAI-style
 * error event and the stream ends: a truncated answer never looks complete.
 */
export async function relayStream(opts: {
  res: ServerResponse; upstream: Dispatcher.ResponseData; stripUsage: boolean; chat: boolean; signal: AbortSignal;
  /** Where the tokens relayed so far are kept for the admission journal's checkpoints. */
  progress?: AdmissionProgress;
}): Promise<StreamResult> {
  const { res, upstream, signal } = opts;
  const relay = new SseRelay({ stripUsageChunk: opts.stripUsage, chat: opts.chat });
  let firstByteAt: number | undefined;
  let atBoundary = true;
  // Chunks that arrive in one read from the node (undici hands them over one by one in the same turn of
  // the event loop) leave in one write to the client: under load that is several times fewer syscalls.
  let corked = false;
  const uncork = (): void => {
    corked = false;
    res.uncork();
  };
  const write = async (bytes: Buffer): Promise<void> => {
    atBoundary = bytes.length >= 2 && bytes[bytes.length - 1] === LF && bytes[bytes.length - 2] === LF;
    if (!corked) {
      corked = true;
      res.cork();
      setImmediate(uncork);
    }
    if (!res.write(bytes)) await once(res, 'drain', { signal });
  };
  let failure: StreamResult['failure'] = null;
  try {
    for await (const chunk of upstream.body as AsyncIterable<Buffer>) {
      firstByteAt ??= performance.now();
      const out = relay.push(chunk);
      if (opts.progress) opts.progress.completionTokens = relay.tokenEvents;
      if (out) await write(out);
    }
    const rest = relay.finish();
    if (rest) await write(rest);
    if (relay.error) failure = 'upstream_error_event';
    else if (!relay.sawDone) failure = 'upstream_stream_cut';
  } catch (err) {
    failure = signal.reason instanceof ServerShutdown && !res.destroyed ? 'server_shutdown'
      : signal.aborted || res.destroyed ? 'client_aborted' : upstreamReason(err) === 'timeout' ? 'upstream_timeout' : 'upstream_stream_cut';
  }
  if (failure === 'upstream_stream_cut' || failure === 'upstream_timeout' || failure === 'server_shutdown') {
    const message = failure === 'upstream_timeout'
      ? 'The model node stopped sending tokens; the answer is incomplete.'
      : failure === 'server_shutdown'
        ? 'The server is shutting down and its grace period for running requests is over; the answer is incomplete. Retry the request.'
        : 'The connection to the model node broke; the answer is incomplete.';
    if (!res.destroyed) res.end((atBoundary ? '' : '\n\n') + errorEvent(failure, message));
  } else if (!res.destroyed) {
    res.end();
  }
  return { usage: relay.usage, tokenEvents: relay.tokenEvents, firstByteAt, failure };
}
