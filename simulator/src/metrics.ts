import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Engine } from './engine.ts';

export type RequestOutcome = 'stop' | 'length' | 'abort';

export interface FinishedRequest {
  reason: RequestOutcome;
  e2eSeconds: number;
  promptTokens: number;
  generationTokens: number;
}

/** vLLM's metric families, fed by what the simulator really did. */
export interface SimulatorMetrics {
  readonly registry: Registry;
  recordScheduled(queueSeconds: number): void;
  recordPrefill(promptTokens: number, cachedTokens: number): void;
  recordFirstToken(ttftSeconds: number): void;
  /** One generated token; `itlSeconds` is the gap since the previous one, if any. */
  recordToken(itlSeconds?: number): void;
  recordFinished(request: FinishedRequest): void;
}

// Bucket boundaries copied from vLLM's v1 metrics so dashboards built for real nodes fit.
const TTFT_BUCKETS = [
  0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160,
  640, 2560,
];
const ITL_BUCKETS = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80];
const REQUEST_LATENCY_BUCKETS = [
  0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920, 7680,
];

/** vLLM's build_1_2_5_buckets: 1, 2, 5, 10, 20, 50, … up to `max`. */
function oneTwoFiveBuckets(max: number): number[] {
  const buckets: number[] = [];
  for (let exponent = 1; ; exponent *= 10) {
    for (const mantissa of [1, 2, 5]) {
      if (mantissa * exponent > max) return buckets;
      buckets.push(mantissa * exponent);
    }
  }
}

export function createSimulatorMetrics(model: string, engine: Engine, maxModelLen: number): SimulatorMetrics {
  // A registry per instance: several simulators in one test process must not share counters.
  const registry = new Registry();
  const labels = { model_name: model, engine: '0' };
  const labelNames = ['model_name', 'engine'] as const;
  const registers = [registry];

  const gauge = (name: string, help: string, read: () => number): void => {
    new Gauge({
      name,
      help,
      labelNames,
      registers,
      collect() {
        this.set(labels, read());
      },
    });
  };
  gauge('vllm:num_requests_running', 'Number of requests in model execution batches.', () => engine.runningCount);
  gauge('vllm:num_requests_waiting', 'Number of requests waiting to be processed.', () => engine.waitingCount);
  gauge('vllm:kv_cache_usage_perc', 'KV-cache usage. 1 means 100 percent usage.', () => engine.kvCacheUsage());

  const counter = (name: string, help: string): Counter<'model_name' | 'engine'> => {
    const metric = new Counter({ name, help, labelNames, registers });
    metric.inc(labels, 0);
    return metric;
  };
  const promptTokens = counter('vllm:prompt_tokens_total', 'Number of prefill tokens processed.');
  const generationTokens = counter('vllm:generation_tokens_total', 'Number of generation tokens processed.');
  // Stays 0: the cache is sized for maxNumSeqs full contexts, so no sequence is ever evicted.
  counter('vllm:num_preemptions_total', 'Cumulative number of preemption from the engine.');
  const prefixQueries = counter(
    'vllm:prefix_cache_queries_total',
    'Prefix cache queries, in terms of number of queried tokens.',
  );
  const prefixHits = counter(
    'vllm:prefix_cache_hits_total',
    'Prefix cache hits, in terms of number of cached tokens.',
  );

  const success = new Counter({
    name: 'vllm:request_success_total',
    help: 'Count of successfully processed requests.',
    labelNames: [...labelNames, 'finished_reason'],
    registers,
  });
  for (const reason of ['stop', 'length', 'abort']) success.inc({ ...labels, finished_reason: reason }, 0);

  const histogram = (name: string, help: string, buckets: number[]): Histogram<'model_name' | 'engine'> =>
    new Histogram({ name, help, labelNames, registers, buckets });
  const ttft = histogram(
    'vllm:time_to_first_token_seconds',
    'Histogram of time to first token in seconds.',
    TTFT_BUCKETS,
  );
  const itl = histogram(
    'vllm:inter_token_latency_seconds',
    'Histogram of inter-token latency in seconds.',
    ITL_BUCKETS,
  );
  const e2e = histogram(
    'vllm:e2e_request_latency_seconds',
    'Histogram of e2e request latency in seconds.',
    REQUEST_LATENCY_BUCKETS,
  );
  const queueTime = histogram(
    'vllm:request_queue_time_seconds',
    'Histogram of time spent in WAITING phase for request.',
    REQUEST_LATENCY_BUCKETS,
  );
  const tokenBuckets = oneTwoFiveBuckets(maxModelLen);
  const promptHistogram = histogram(
    'vllm:request_prompt_tokens',
    'Number of prefill tokens processed.',
    tokenBuckets,
  );
  const generationHistogram = histogram(
    'vllm:request_generation_tokens',
    'Number of generation tokens processed.',
    tokenBuckets,
  );

  return {
    registry,
    recordScheduled: (seconds) => queueTime.observe(labels, seconds),
    recordPrefill(tokens, cached) {
      promptTokens.inc(labels, tokens);
      prefixQueries.inc(labels, tokens);
      prefixHits.inc(labels, cached);
    },
    recordFirstToken: (seconds) => ttft.observe(labels, seconds),
    recordToken(gap) {
      generationTokens.inc(labels);
      if (gap !== undefined) itl.observe(labels, gap);
    },
    recordFinished(request) {
      success.inc({ ...labels, finished_reason: request.reason });
      e2e.observe(labels, request.e2eSeconds);
      promptHistogram.observe(labels, request.promptTokens);
      generationHistogram.observe(labels, request.generationTokens);
    },
  };
}
