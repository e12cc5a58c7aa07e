import type { Engine } from './engine.ts';
import type { FailureInjector } from './failure-injection.ts';
import type { LatencyModel } from './latency.ts';
import type { SimulatorMetrics } from './metrics.ts';
import type { ResolvedSimulatorOptions } from './options.ts';
import type { PrefixCache } from './prefix-cache.ts';
import type { Random } from './prng.ts';
import type { RequestRecorder } from './request-recorder.ts';

/** Counters that tests read to check what the simulator saw (`GET /_sim/stats`). */
export interface SimulatorStats {
  /** Completion requests received, whatever became of them. */
  requests: number;
  /** Finished with `stop` or `length`. */
  completed: number;
  /** The client went away before the answer was finished (while waiting or generating). */
  aborted: number;
  /** Streams cut by an injected `stream_cut`. */
  cut: number;
  /** Requests answered with an injected error status. */
  failed: number;
  /** Requests refused with 503 because the waiting queue was full. */
  rejected: number;
  running: number;
  waiting: number;
}

export type StatCounter = Exclude<keyof SimulatorStats, 'running' | 'waiting'>;

/** Everything a handler needs; one per simulator instance, no module-level state. */
export interface SimulatorContext {
  readonly options: ResolvedSimulatorOptions;
  readonly engine: Engine;
  readonly metrics: SimulatorMetrics;
  readonly random: Random;
  readonly latency: LatencyModel;
  readonly failures: FailureInjector;
  readonly prefixCache: PrefixCache;
  readonly counters: Record<StatCounter, number>;
  /** Controllers of in-flight completions, so `close()` can end them. */
  readonly inflight: Set<AbortController>;
  /** Set with `--record-requests`: the raw request bodies, for `GET /_sim/requests`. */
  readonly recorder: RequestRecorder | undefined;
}

/** Abort reason for a client that closed its connection, told apart from engine death. */
export class ClientDisconnected extends Error {
  override readonly name = 'ClientDisconnected';
  constructor() {
    super('The client closed the connection.');
  }
}
