import { createSimulator, type Simulator } from '../src/server.ts';
import type { SimulatorOptions } from '../src/options.ts';

/** A simulator with near-zero latency, so tests prove behaviour without waiting on timers. */
export function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  return createSimulator({
    ttftMs: 1,
    ttftSpreadMs: 0,
    itlMs: 1,
    itlSpreadMs: 0,
    seed: 7,
    ...options,
  });
}

export function postJson(url: string, body: unknown, init: RequestInit = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...init,
  });
}

export interface SseRead {
  /** `data:` payloads in order, `[DONE]` included as the raw string. */
  data: string[];
  /** Parsed JSON of every payload but `[DONE]`. */
  events: Array<Record<string, unknown>>;
  done: boolean;
  /** Set when the connection died before the stream ended cleanly. */
  error?: unknown;
}

/** Reads a whole SSE body, keeping what arrived before a cut. */
export async function readSse(response: Response, onEvent?: (data: string) => void): Promise<SseRead> {
  const result: SseRead = { data: [], events: [], done: false };
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (!frame.startsWith('data: ')) throw new Error(`unexpected SSE frame: ${frame}`);
        const data = frame.slice('data: '.length);
        result.data.push(data);
        if (data === '[DONE]') result.done = true;
        else result.events.push(JSON.parse(data) as Record<string, unknown>);
        onEvent?.(data);
      }
    }
  } catch (error) {
    result.error = error;
  }
  return result;
}

/** Polls until `check` returns true; fails the test with `what` after a few seconds. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Value of one Prometheus sample, matched by name and (a subset of) its labels. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`))) continue;
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

export async function scrape(simulator: Simulator): Promise<string> {
  return (await fetch(`${simulator.url}/metrics`)).text();
}

/** A chat request that keeps its slot for a long time (ignore_eos until max_tokens at itl). */
export function holdingChat(maxTokens = 1000): Record<string, unknown> {
  return { messages: [{ role: 'user', content: 'hold the slot' }], ignore_eos: true, max_tokens: maxTokens };
}

/** The fields tests read from vLLM's JSON bodies; each body has only some of them. */
export interface WireBody {
  id: string;
  object: string;
  created: number;
  model: string;
  choices: Array<{
    index: number;
    message: { role: string; content: string };
    delta: { role?: string; content?: string };
    text: string;
    finish_reason: string | null;
  }>;
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  error: { message: string; type: string; param: string | null; code: number };
  data: Array<{ id: string }>;
}

export async function jsonOf(response: Response): Promise<WireBody> {
  return (await response.json()) as WireBody;
}
