/** Latest load of a vLLM server, from its Prometheus /metrics. */
export interface VllmLoad {
  running: number;
  waiting: number;
  /** 0..1 */
  kvCacheUsage: number;
}

/** Sums a metric over its label sets (one per model/engine); null when absent. */
function metric(text: string, name: string): number | null {
  let total: number | null = null;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^[^\s{]+(?:\{[^}]*\})?\s+(\S+)/.exec(line);
    const head = line.slice(0, name.length + 1);
    if (!match || (head !== `${name}{` && head !== `${name} `)) continue;
    const value = Number(match[1]);
    if (Number.isFinite(value)) total = (total ?? 0) + value;
  }
  return total;
}

/** Parses vLLM's metrics: v1 `kv_cache_usage_perc`, older releases `gpu_cache_usage_perc`. */
export function parseVllmMetrics(text: string): VllmLoad {
  return {
    running: metric(text, 'vllm:num_requests_running') ?? 0,
    waiting: metric(text, 'vllm:num_requests_waiting') ?? 0,
    kvCacheUsage: metric(text, 'vllm:kv_cache_usage_perc') ?? metric(text, 'vllm:gpu_cache_usage_perc') ?? 0,
  };
}

/** `Authorization` for a node started with an API key (vLLM checks it on /v1; sent everywhere, harmless elsewhere). */
const authorization = (apiKey: string | null): Record<string, string> => (apiKey ? { authorization: `Bearer ${apiKey}` } : {});

/** A node's answer other than 2xx. */
class VllmStatusError extends Error {
  override name = 'VllmStatusError';
  constructor(message: string, readonly status: number) {
    super(message);
  }
}

const get = async (url: string, apiKey: string | null, timeoutMs: number, signal?: AbortSignal): Promise<Response> => {
  const timeout = AbortSignal.timeout(timeoutMs);
  const res = await fetch(url, { headers: authorization(apiKey), signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
  if (!res.ok) {
    await res.body?.cancel();
    throw new VllmStatusError(`GET ${new URL(url).pathname} answered ${res.status}`, res.status);
  }
  return res;
};

/** One health probe: /health must answer 2xx, then /metrics is scraped; both carry the node's key when it has one. */
export async function probeVllm(baseUrl: string, apiKey: string | null, timeoutMs: number): Promise<VllmLoad> {
  await (await get(`${baseUrl}/health`, apiKey, timeoutMs)).body?.cancel();
  return parseVllmMetrics(await (await get(`${baseUrl}/metrics`, apiKey, timeoutMs)).text());
}

/** Whether the server lists the model on /v1/models (a wrong or missing key answers 401: not ready). */
export async function servesModel(baseUrl: string, model: string, apiKey: string | null, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
  const body = (await (await get(`${baseUrl}/v1/models`, apiKey, timeoutMs, signal)).json()) as { data?: { id?: string }[] };
  return (body.data ?? []).some((m) => m.id === model);
}

/**
 * Waits until the node answers /health and lists `model` on /v1/models (vLLM loads weights for
 * minutes before that). Calls `onWait` now and then with the last problem; throws on abort, and at
 * once when the node refuses the key (401/403: waiting cannot fix it).
 */
export async function waitForVllm({ baseUrl, model, apiKey, signal, onWait, pollMs = 1_000 }: {
  baseUrl: string; model: string; apiKey: string | null; signal: AbortSignal; onWait?: (problem: string) => void; pollMs?: number;
}): Promise<void> {
  let last = '';
  for (let i = 0; ; i++) {
    try {
      await (await get(`${baseUrl}/health`, apiKey, 5_000, signal)).body?.cancel();
      if (await servesModel(baseUrl, model, apiKey, 5_000, signal)) return;
      last = `/v1/models does not list ${model} yet`;
    } catch (err) {
      if (err instanceof VllmStatusError && (err.status === 401 || err.status === 403)) throw new Error(`vLLM refused the node's API key: ${err.message}`);
      last = (err as Error).message;
    }
    if (signal.aborted) throw new Error(`vLLM did not become ready: ${last}`);
    if (i % 10 === 0) onWait?.(last);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
