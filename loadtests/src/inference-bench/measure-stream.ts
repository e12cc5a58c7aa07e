import { Pool } from 'undici';
import { percentile } from '../stats.ts';

export interface StreamLoadOptions {
  /** Base URL (`http://host:port`); requests go to `${url}/v1/chat/completions`. */
  url: string;
  apiKey?: string;
  model: string;
  concurrency: number;
  /** Requests to send in total (bounded run). */
  requests: number;
}

export interface StreamLoadResult {
  requests: number;
  errors: number;
  seconds: number;
  rps: number;
  ttftP50Ms: number;
  ttftP99Ms: number;
}


/**
 * Streams `requests` chat completions with `concurrency` workers over keep-alive connections and
 * measures time to first body byte (the first SSE event) and throughput.
 */
export async function measureStream(o: StreamLoadOptions): Promise<StreamLoadResult> {
  const origin = new URL(o.url).origin;
  const pool = new Pool(origin, { connections: o.concurrency, keepAliveTimeout: 30_000 });
  const body = JSON.stringify({ model: o.model, messages: [{ role: 'user', content: 'Benchmark prompt' }], max_tokens: 64, stream: true });
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(o.apiKey ? { authorization: `Bearer ${o.apiKey}` } : {}) };
  const ttfts: number[] = [];
  let errors = 0;
  let issued = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: o.concurrency }, async () => {
    while (issued < o.requests) {
      issued++;
      const t0 = performance.now();
      try {
        const res = await pool.request({ path: '/v1/chat/completions', method: 'POST', headers, body });
        let first = true;
        for await (const chunk of res.body) {
          void chunk;
          if (first) {
            ttfts.push(performance.now() - t0);
            first = false;
          }
        }
        if (res.statusCode !== 200) errors++;
      } catch {
        errors++;
      }
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  await pool.close();
  return { requests: o.requests, errors, seconds, rps: o.requests / seconds, ttftP50Ms: percentile(ttfts, 50), ttftP99Ms: percentile(ttfts, 99) };
}
