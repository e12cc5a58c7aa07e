import { Agent, request } from 'undici';
import { runOpenLoop } from '../harness/load.ts';

/** What the client saw of one request; `requestId` is the client's own x-request-id, stored on its usage record. */
export interface ChaosSample {
  requestId: string;
  /** Seconds since the load started, when the request was sent. */
  at: number;
  stream: boolean;
  /** From sending to the end of the answer (or the failure), ms. */
  ms: number;
  /** 0 = no HTTP answer (connection refused or cut before the headers). */
  status: number;
  /**
   * The API admitted it: it answered with rate-limit headers (the limiter ran) and not 429. Such a
   * request must end as exactly one usage record, whatever happened next (docs/inference.md).
   */
  admitted: boolean;
  /** 200 with the whole answer: `[DONE]` for a stream, a parsed body with usage otherwise. */
  ok: boolean;
  /** Completion tokens the client saw: the usage the API returned, else the content chunks received. */
  clientTokens: number;
  /** The error: an error event's code, an OpenAI error code, or the socket error. */
  error?: string;
}

export interface ChaosLoadOptions {
  baseUrl: string;
  model: string;
  secret: string;
  /** Prefix of the x-request-ids (one per fault, so records are found by it). */
  idPrefix: string;
  ratePerSecond: number;
  durationSeconds: number;
  maxTokens: number;
  onSecond?: (second: number) => void;
}

interface SseTally {
  chunks: number;
  usageTokens: number | null;
  done: boolean;
  error?: string;
}

/** Reads an SSE body: content chunks, the usage chunk, `[DONE]` or an error event. */
function tallySse(text: string): SseTally {
  const tally: SseTally = { chunks: 0, usageTokens: null, done: false };
  for (const line of text.split('\n')) {
    if (!line.startsWith('data: ')) continue;
    const data = line.slice(6).trim();
    if (data === '[DONE]') {
      tally.done = true;
      continue;
    }
    try {
      const event = JSON.parse(data) as { choices?: unknown[]; usage?: { completion_tokens: number } | null; error?: { code?: string } };
      if (event.error) tally.error = event.error.code ?? 'error event';
      if (event.usage) tally.usageTokens = event.usage.completion_tokens;
      if (event.choices?.length) tally.chunks++;
    } catch {
      tally.error ??= 'unparsable event';
    }
  }
  return tally;
}

/** undici's code and, for a socket error, what happened to the socket (\"other side closed\", …). */
function socketError(err: unknown): string {
  const { code, message } = err as { code?: string; message: string };
  return code === 'UND_ERR_SOCKET' ? `${code} (${message})` : (code ?? message);
}

async function send(dispatcher: Agent, o: ChaosLoadOptions, n: number, started: number): Promise<ChaosSample> {
  const requestId = `${o.idPrefix}-${n}`;
  const stream = n % 2 === 0;
  const t0 = performance.now();
  const at = (t0 - started) / 1000;
  let status = 0;
  let admitted = false;
  let text = '';
  try {
    const res = await request(`${o.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      dispatcher,
      headers: { authorization: `Bearer ${o.secret}`, 'content-type': 'application/json', 'x-request-id': requestId },
      body: JSON.stringify({
        model: o.model,
        stream,
        ...(stream ? { stream_options: { include_usage: true } } : {}),
        max_tokens: o.maxTokens,
        messages: [{ role: 'user', content: `Chaos request ${n}: tell me about the sea.` }],
      }),
      headersTimeout: 30_000,
      bodyTimeout: 30_000,
    });
    status = res.statusCode;
    admitted = 'x-ratelimit-limit-requests' in res.headers && status !== 429;
    for await (const chunk of res.body) text += chunk.toString();
  } catch (err) {
    const partial = stream ? tallySse(text) : null;
    return { requestId, at, ms: performance.now() - t0, stream, status, admitted, ok: false, clientTokens: partial?.usageTokens ?? partial?.chunks ?? 0, error: socketError(err) };
  }
  if (stream && status === 200) {
    const t = tallySse(text);
    const ok = t.done && !t.error;
    return { requestId, at, ms: performance.now() - t0, stream, status, admitted, ok, clientTokens: t.usageTokens ?? t.chunks, error: ok ? undefined : (t.error ?? 'stream ended without [DONE]') };
  }
  try {
    const body = JSON.parse(text) as { usage?: { completion_tokens: number }; error?: { code?: string } };
    const ok = status === 200 && body.usage !== undefined;
    return { requestId, at, ms: performance.now() - t0, stream, status, admitted, ok, clientTokens: body.usage?.completion_tokens ?? 0, error: ok ? undefined : (body.error?.code ?? 'no usage') };
  } catch {
    return { requestId, at, ms: performance.now() - t0, stream, status, admitted, ok: false, clientTokens: 0, error: 'unparsable body' };
  }
}

/** An open-loop load of chat completions (every other one streamed), each with its own x-request-id. */
export async function runChaosLoad(o: ChaosLoadOptions): Promise<{ samples: ChaosSample[]; dropped: number; wallSeconds: number }> {
  const dispatcher = new Agent({ connections: 256, pipelining: 1, keepAliveTimeout: 10_000 });
  try {
    return await runOpenLoop({ ratePerSecond: o.ratePerSecond, durationSeconds: o.durationSeconds, maxInFlight: 2_000, onSecond: o.onSecond, send: (n, started) => send(dispatcher, o, n, started) });
  } finally {
    await dispatcher.close();
  }
}
