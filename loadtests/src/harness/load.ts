import { Agent, request } from 'undici';

export interface LoadKey {
  name: string;
  secret: string;
  /** Share of all requests sent with this key (weights are normalised). */
  weight: number;
}

export interface LoadOptions {
  baseUrl: string;
  model: string;
  keys: LoadKey[];
  /** Target arrival rate (open loop: requests start on schedule whether or not earlier ones finished). */
  ratePerSecond: number;
  durationSeconds: number;
  /** Share of streamed requests, 0..1. */
  streamShare: number;
  maxTokens: number;
  /** Called once per second with the elapsed second (for mid-run actions such as killing a node). */
  onSecond?: (second: number) => void | Promise<void>;
  /** Bound on concurrently open requests, so an overloaded target cannot make the generator unbounded. */
  maxInFlight?: number;
}

export interface Sample {
  /** Seconds since the run started, when the request was sent. */
  at: number;
  key: string;
  stream: boolean;
  status: number;
  /** Time to the first body byte (streams: the first token's chunk), ms. */
  ttftMs: number;
  totalMs: number;
  /** Set when the stream carried an error event or the connection failed. */
  error?: string;
}

export interface LoadResult {
  samples: Sample[];
  /** Requests not sent because maxInFlight was reached (the target could not keep up). */
  dropped: number;
  wallSeconds: number;
}

function pickKey(keys: LoadKey[], n: number): LoadKey {
  const total = keys.reduce((s, k) => s + k.weight, 0);
  // Deterministic interleaving: request n goes to the key whose cumulative share covers n's position.
  let x = ((n * 0.6180339887) % 1) * total;
  for (const k of keys) {
    if (x < k.weight) return k;
    x -= k.weight;
  }
  return keys[keys.length - 1]!;
}

async function one(dispatcher: Agent, o: LoadOptions, key: LoadKey, stream: boolean, started: number): Promise<Sample> {
  const t0 = performance.now();
  const at = (t0 - started) / 1000;
  try {
    const res = await request(`${o.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      dispatcher,
      headers: { authorization: `Bearer ${key.secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: o.model,
        stream,
        max_tokens: o.maxTokens,
        messages: [{ role: 'user', content: 'Tell me a short story about a lighthouse keeper and a storm at sea.' }],
      }),
    });
    let ttftMs = -1;
    let error: string | undefined;
    let tail = '';
    for await (const chunk of res.body) {
      if (ttftMs < 0) ttftMs = performance.now() - t0;
      if (stream) {
        tail = (tail + chunk.toString()).slice(-4096);
        if (tail.includes('"error"') && !error) error = 'stream error event';
      }
    }
    const totalMs = performance.now() - t0;
    return { at, key: key.name, stream, status: res.statusCode, ttftMs: ttftMs < 0 ? totalMs : ttftMs, totalMs, error };
  } catch (err) {
    const ms = performance.now() - t0;
    return { at, key: key.name, stream, status: 0, ttftMs: ms, totalMs: ms, error: (err as Error).message };
  }
}

export interface OpenLoopOptions<T> {
  ratePerSecond: number;
  durationSeconds: number;
  /** Sends request number `n` (0-based, in schedule order) and resolves with its sample. */
  send: (n: number, started: number) => Promise<T>;
  onSecond?: (second: number) => void | Promise<void>;
  /** Bound on concurrently open requests (beyond it a due request is counted as dropped, not sent). */
  maxInFlight: number;
}

/** Starts requests on a fixed schedule whether or not earlier ones finished (open loop), bounded in count and time. */
export async function runOpenLoop<T>(o: OpenLoopOptions<T>): Promise<{ samples: T[]; dropped: number; wallSeconds: number }> {
  const total = Math.round(o.ratePerSecond * o.durationSeconds);
  const samples: T[] = [];
  const pending = new Set<Promise<void>>();
  let dropped = 0;
  let sent = 0;
  let second = 0;
  const started = performance.now();
  while (sent < total) {
    const elapsed = (performance.now() - started) / 1000;
    if (Math.floor(elapsed) > second) {
      second = Math.floor(elapsed);
      await o.onSecond?.(second);
    }
    const due = Math.min(total, Math.floor(elapsed * o.ratePerSecond));
    for (; sent < due; sent++) {
      if (pending.size >= o.maxInFlight) {
        dropped++;
        continue;
      }
      const p: Promise<void> = o.send(sent, started).then((s) => {
        samples.push(s);
        pending.delete(p);
      });
      pending.add(p);
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  await Promise.all(pending);
  return { samples, dropped, wallSeconds: (performance.now() - started) / 1000 };
}

/** Runs an open-loop load at a fixed arrival rate for a fixed duration, bounded in count and time. */
export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const dispatcher = new Agent({ connections: 512, pipelining: 1, keepAliveTimeout: 30_000 });
  const result = await runOpenLoop({
    ratePerSecond: o.ratePerSecond,
    durationSeconds: o.durationSeconds,
    maxInFlight: o.maxInFlight ?? 2_000,
    onSecond: o.onSecond,
    send: (n, started) => one(dispatcher, o, pickKey(o.keys, n), (n * 0.7548776662) % 1 < o.streamShare, started),
  });
  await dispatcher.close();
  return result;
}
