import type { ServerResponse } from 'node:http';
import type { UsageOutcome } from '@cic/db';
import { AppError } from '@cic/core/errors';
import type { AdmissionProgress } from './admission-journal.ts';
import type { RequestContext } from '../http/router.ts';
import { countTokens } from './estimate-tokens.ts';
import { callUpstream, ClientGoneError, upstreamReason, type UpstreamResponse } from './call-upstream.ts';
import type { InferenceDeps } from './inference-deps.ts';
import { relayStream } from './relay-stream.ts';
import type { UpstreamUsage } from './sse-relay.ts';

/** How a proxied request ended: what its usage record and metrics say. */
export interface ProxyOutcome {
  status: number;
  nodeId: string | null;
  usage: UpstreamUsage | undefined;
  /** Completion-token estimate when `usage` is missing. */
  tokenEvents: number;
  firstByteAt: number | undefined;
  outcome: UsageOutcome;
  errorCode: string | null;
  /** Whether a node received the prompt (so an estimate of prompt tokens is owed when usage is missing). */
  promptProcessed: boolean;
  /** The node refused the request (4xx): nothing was sent yet, the caller answers with this. */
  error: AppError | undefined;
}

export interface ProxyCompletionOptions {
  deps: InferenceDeps;
  res: ServerResponse;
  ctx: RequestContext;
  model: string;
  path: string;
  body: Buffer | string;
  stream: boolean;
  /** Drop the usage-only chunk the proxy asked for on the client's behalf. */
  stripUsage: boolean;
  /**
   * Resolves once the rate limiter admitted the request, its headers set on `res` (or throws its 429):
   * awaited before any byte is sent.
   */
  admit: () => Promise<unknown>;
  /** Aborts the upstream call: the client left, or the limiter refused a request dispatched early. */
  signal: AbortSignal;
  /** The node and the tokens relayed so far, for the admission journal's checkpoints. */
  progress?: AdmissionProgress;
}

const outcomeOf = (o: Partial<ProxyOutcome> & Pick<ProxyOutcome, 'status' | 'outcome'>): ProxyOutcome => ({
  nodeId: null, usage: undefined, tokenEvents: 0, firstByteAt: undefined, errorCode: null, promptProcessed: true, error: undefined, ...o,
});

/** vLLM's own 4xx answers, translated into our error model (its bodies are not quite OpenAI's). */
function upstreamClientError(status: number, text: string): AppError {
  let message = `The model node refused the request (HTTP ${status}).`;
  let param: string | null = null;
  try {
    const parsed = JSON.parse(text) as { error?: { message?: string; param?: string | null }; message?: string };
    message = parsed.error?.message ?? parsed.message ?? message;
    param = parsed.error?.param ?? null;
  } catch {
    // Keep the generic message.
  }
  if (status === 404) return new AppError('NOT_FOUND', message, { param: param ?? 'model', detail: 'model_not_found' });
  if (status === 413) return new AppError('PAYLOAD_TOO_LARGE', message, { param, detail: 'request_too_large' });
  const detail = /maximum context length/i.test(message) ? 'context_length_exceeded' : 'invalid_request';
  return new AppError('BAD_REQUEST', message, { param, detail });
}

/**
 * Sends the request to a node and relays its answer; returns how it ended. Throws AppErrors before any
 * byte was sent; a node's own refusal (4xx) comes back as the outcome's `error`, still to be answered.
 */
export async function proxyCompletion(o: ProxyCompletionOptions): Promise<ProxyOutcome> {
  const { deps, ctx } = o;
  const s = deps.settings;
  let up: UpstreamResponse;
  try {
    up = await callUpstream({
      registry: deps.registry, metrics: deps.metrics, log: ctx.log, model: o.model, path: o.path, body: o.body, requestId: ctx.requestId,
      signal: o.signal, maxAttempts: s.INFERENCE_MAX_ATTEMPTS, firstByteTimeoutMs: s.INFERENCE_FIRST_BYTE_TIMEOUT_MS, idleTimeoutMs: s.INFERENCE_IDLE_TIMEOUT_MS,
    });
  } catch (err) {
    if (err instanceof ClientGoneError) return outcomeOf({ status: 499, outcome: 'CLIENT_ABORTED', errorCode: 'client_disconnected' });
    throw err;
  }
  try {
    return await relayAnswer(o, up);
  } finally {
    // Every path releases with what it learned; this only catches an unexpected throw, so no lease leaks.
    up.lease.release('neutral');
  }
}

async function relayAnswer(o: ProxyCompletionOptions, { lease, response }: UpstreamResponse): Promise<ProxyOutcome> {
  const { deps, res, ctx } = o;
  const { node } = lease;
  try {
    await o.admit();
  } catch (err) {
    // Dispatched ahead of the limiter's verdict and refused: drop the upstream call at once.
    response.body.on('error', () => undefined).destroy();
    lease.release('neutral');
    throw err;
  }
  if (o.progress) o.progress.nodeId = node.id;

  if (response.statusCode !== 200) {
    const text = await response.body.text().catch(() => '');
    lease.release('success');
    const error = upstreamClientError(response.statusCode, text);
    return outcomeOf({ status: error.status, nodeId: node.id, outcome: 'ERROR', errorCode: error.detail, promptProcessed: false, error });
  }

  if (!o.stream) {
    let buf: Buffer;
    try {
      buf = Buffer.from(await response.body.arrayBuffer());
    } catch (err) {
      const reason = upstreamReason(err);
      if (o.signal.aborted) {
        lease.release('neutral');
        return outcomeOf({ status: 499, nodeId: node.id, outcome: 'CLIENT_ABORTED', errorCode: 'client_disconnected' });
      }
      lease.release('failure');
      deps.metrics.upstreamErrors.inc({ node: node.id, reason });
      throw reason === 'timeout'
        ? new AppError('UPSTREAM_TIMEOUT', 'The model node did not finish in time.', { detail: 'upstream_timeout' })
        : new AppError('BAD_GATEWAY', 'The connection to the model node broke.', { detail: 'upstream_error' });
    }
    lease.release('success');
    let usage: UpstreamUsage | undefined;
    let tokenEvents = 0;
    try {
      const parsed = JSON.parse(buf.toString('utf8')) as { usage?: UpstreamUsage; choices?: { text?: string; message?: { content?: string | null } }[] };
      usage = parsed.usage ?? undefined;
      if (!usage) for (const c of parsed.choices ?? []) tokenEvents += countTokens(c.text ?? c.message?.content ?? '');
    } catch {
      // Forwarded as it came; metered as an estimate.
    }
    res.writeHead(200, { 'content-type': response.headers['content-type'] ?? 'application/json', 'content-length': buf.length });
    res.end(buf);
    return outcomeOf({ status: 200, nodeId: node.id, usage, tokenEvents, outcome: 'SUCCESS' });
  }

  // The headers leave with the first chunk: one write (and one packet) fewer per request.
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });
  const result = await relayStream({ res, upstream: response, stripUsage: o.stripUsage, chat: o.path === '/v1/chat/completions', signal: o.signal, progress: o.progress });
  const { failure } = result;
  if (failure === 'upstream_stream_cut' || failure === 'upstream_timeout') {
    lease.release('failure');
    deps.metrics.upstreamErrors.inc({ node: node.id, reason: failure === 'upstream_timeout' ? 'timeout' : 'stream_cut' });
    ctx.log.warn({ nodeId: node.id, failure, tokenEvents: result.tokenEvents }, 'upstream stream ended early');
  } else {
    lease.release(failure === 'client_aborted' || failure === 'server_shutdown' ? 'neutral' : 'success');
  }
  let outcome: UsageOutcome = 'SUCCESS';
  if (failure === 'client_aborted') outcome = result.tokenEvents > 0 ? 'PARTIAL' : 'CLIENT_ABORTED';
  else if (failure === 'upstream_error_event') outcome = result.tokenEvents > 0 ? 'PARTIAL' : 'ERROR';
  else if (failure) outcome = 'PARTIAL';
  else if (!result.usage) outcome = 'PARTIAL';
  // A stream that failed mid-way carries no trustworthy final usage: count what was seen instead.
  const usage = failure ? undefined : result.usage;
  return outcomeOf({ status: 200, nodeId: node.id, usage, tokenEvents: result.tokenEvents, firstByteAt: result.firstByteAt, outcome, errorCode: failure });
}
