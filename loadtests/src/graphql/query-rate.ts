import { Pool } from 'undici';

/**
 * Closed-loop load on one GraphQL operation: `concurrency` callers each sending the next request as soon
 * as the previous answered, for `seconds`. Returns requests/s and latency samples (ms).
 */
export async function measureQueryRate(options: { url: string; token: string; query: string; variables?: Record<string, unknown>; concurrency: number; seconds: number }) {
  const { url, token, query, variables = {}, concurrency, seconds } = options;
  const pool = new Pool(url, { connections: concurrency, pipelining: 1 });
  const body = JSON.stringify({ query, variables });
  const latencies: number[] = [];
  let errors = 0;
  const deadline = Date.now() + seconds * 1000;
  const started = Date.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (Date.now() < deadline) {
      const t0 = performance.now();
      const res = await pool.request({ path: '/graphql', method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body });
      const json = (await res.body.json()) as { errors?: unknown };
      if (res.statusCode !== 200 || json.errors) errors += 1;
      latencies.push(performance.now() - t0);
    }
  }));
  const elapsed = (Date.now() - started) / 1000;
  await pool.close();
  return { requests: latencies.length, errors, perSecond: latencies.length / elapsed, latencies };
}
