import { engineDead, overloaded } from './errors.ts';

/** A request that holds one of the `maxNumSeqs` slots. */
export interface Sequence {
  readonly id: number;
  readonly controller: AbortController;
  /** Seconds spent in the waiting queue before it was scheduled. */
  readonly queueSeconds: number;
  /** Tokens it holds in the KV cache: prompt plus those generated so far. */
  kvTokens: number;
}

export interface AdmitRequest {
  promptTokens: number;
  /** Aborting it while waiting leaves the queue; while running, generation stops. */
  controller: AbortController;
}

export interface EngineOptions {
  maxNumSeqs: number;
  maxWaiting: number;
  maxModelLen: number;
}

/** Scheduler: at most `maxNumSeqs` running, a FIFO queue of at most `maxWaiting` behind them. */
export interface Engine {
  readonly alive: boolean;
  readonly runningCount: number;
  readonly waitingCount: number;
  /** Running sequences' tokens over the cache a real node would size for maxNumSeqs × maxModelLen. */
  kvCacheUsage(): number;
  /** Resolves once scheduled; rejects with 503 if the queue is full or the engine is dead. */
  admit(request: AdmitRequest): Promise<Sequence>;
  /** Frees the slot for the next waiter; safe to call twice. */
  release(sequence: Sequence): void;
  /** Simulates an engine crash: waiters and running sequences are aborted with a 503. */
  kill(): void;
  revive(): void;
}

interface Waiter {
  request: AdmitRequest;
  enqueuedAt: number;
  start(): void;
}

export function createEngine(options: EngineOptions): Engine {
  const running = new Set<Sequence>();
  const waiting: Waiter[] = [];
  const capacity = options.maxNumSeqs * options.maxModelLen;
  let alive = true;
  let nextId = 1;

  const schedule = (request: AdmitRequest, enqueuedAt: number): Sequence => {
    const sequence: Sequence = {
      id: nextId++,
      controller: request.controller,
      queueSeconds: (performance.now() - enqueuedAt) / 1000,
      kvTokens: request.promptTokens,
    };
    running.add(sequence);
    return sequence;
  };

  const drain = (): void => {
    while (alive && running.size < options.maxNumSeqs) {
      const waiter = waiting.shift();
      if (!waiter) return;
      waiter.start();
    }
  };

  return {
    get alive() {
      return alive;
    },
    get runningCount() {
      return running.size;
    },
    get waitingCount() {
      return waiting.length;
    },
    kvCacheUsage() {
      let held = 0;
      for (const sequence of running) held += sequence.kvTokens;
      return Math.min(1, held / capacity);
    },
    admit(request) {
      const enqueuedAt = performance.now();
      const { signal } = request.controller;
      if (!alive) return Promise.reject(engineDead());
      if (signal.aborted) return Promise.reject(signal.reason);
      if (running.size < options.maxNumSeqs && waiting.length === 0) {
        return Promise.resolve(schedule(request, enqueuedAt));
      }
      if (waiting.length >= options.maxWaiting) return Promise.reject(overloaded());
      return new Promise<Sequence>((resolve, reject) => {
        const onAbort = (): void => {
          const index = waiting.indexOf(waiter);
          if (index >= 0) waiting.splice(index, 1);
          reject(signal.reason);
        };
        const waiter: Waiter = {
          request,
          enqueuedAt,
          start: () => {
            signal.removeEventListener('abort', onAbort);
            resolve(schedule(request, enqueuedAt));
          },
        };
        signal.addEventListener('abort', onAbort, { once: true });
        waiting.push(waiter);
      });
    },
    release(sequence) {
      if (running.delete(sequence)) drain();
    },
    kill() {
      alive = false;
      const reason = engineDead();
      for (const waiter of [...waiting]) waiter.request.controller.abort(reason);
      for (const sequence of [...running]) sequence.controller.abort(reason);
    },
    revive() {
      alive = true;
      drain();
    },
  };
}
