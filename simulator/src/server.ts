import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Registry } from 'prom-client';
import { createApiKeyCheck } from './api-key-auth.ts';
import type { SimulatorContext, SimulatorStats, StatCounter } from './context.ts';
import { controlRoutes, readStats } from './control-routes.ts';
import { createEngine } from './engine.ts';
import { SimulatorError, sendError, sendJson } from './errors.ts';
import { createFailureInjector } from './failure-injection.ts';
import { createLatencyModel } from './latency.ts';
import { createSimulatorMetrics } from './metrics.ts';
import {
  type FailureConfig,
  type ResolvedSimulatorOptions,
  type SimulatorOptions,
  parseSimulatorOptions,
} from './options.ts';
import { createPrefixCache } from './prefix-cache.ts';
import { createRandom } from './prng.ts';
import { type RecordedRequest, createRequestRecorder } from './request-recorder.ts';
import { type RouteTable, openAiRoutes } from './routes.ts';

/** How long close() lets aborted requests write their last event before cutting connections. */
const CLOSE_GRACE_MS = 1000;

/** A running simulator; `close()` it in `afterAll`/`afterEach`. */
export interface Simulator {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:43817`. */
  readonly url: string;
  readonly port: number;
  readonly options: ResolvedSimulatorOptions;
  /** The instance's own Prometheus registry (what `GET /metrics` prints). */
  readonly registry: Registry;
  /** A fresh snapshot on every read. */
  readonly stats: SimulatorStats;
  /** With `recordRequests`: the requests received so far, body bytes as sent (else an empty list). */
  recordedRequests(): RecordedRequest[];
  /** Changes failure injection at run time; `{ rate: 0 }` turns it off. */
  setFailure(config: FailureConfig): void;
  /** Simulates an engine crash: /health and completions answer 503, in-flight requests end. */
  killEngine(): void;
  reviveEngine(): void;
  /** Ends in-flight requests (503 or an error event), closes every connection, stops listening. */
  close(): Promise<void>;
}

/** Starts a vLLM-compatible server and resolves once it listens. */
export async function createSimulator(input: SimulatorOptions = {}): Promise<Simulator> {
  const options = parseSimulatorOptions(input);
  const random = createRandom(options.seed);
  const engine = createEngine(options);
  const counters: Record<StatCounter, number> = {
    requests: 0,
    completed: 0,
    aborted: 0,
    cut: 0,
    failed: 0,
    rejected: 0,
  };
  const ctx: SimulatorContext = {
    options,
    engine,
    random,
    counters,
    metrics: createSimulatorMetrics(options.model, engine, options.maxModelLen),
    latency: createLatencyModel(options, random, engine),
    failures: createFailureInjector(random, { rate: options.failureRate, types: options.failureTypes }),
    prefixCache: createPrefixCache(options.maxNumSeqs * options.maxModelLen),
    inflight: new Set(),
    recorder: options.recordRequests ? createRequestRecorder() : undefined,
  };
  const routes: RouteTable = { ...openAiRoutes(ctx), ...(options.enableControlRoutes ? controlRoutes(ctx) : {}) };
  const authorized = createApiKeyCheck(options.apiKey);
  const handling = new Set<Promise<void>>();
  let closing: Promise<void> | undefined;

  const server: Server = createServer((req, res) => {
    const arrivedAt = performance.now();
    const done = dispatch(routes, authorized, req, res, arrivedAt, closing !== undefined).catch((error: unknown) =>
      sendError(res, error),
    );
    handling.add(done);
    void done.finally(() => handling.delete(done));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;

  const shutdown = async (): Promise<void> => {
    const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
    const reason = new SimulatorError(503, 'The server is shutting down.');
    for (const controller of ctx.inflight) controller.abort(reason);
    // Aborted handlers finish within a tick or two; the grace only bounds a client stuck mid-upload.
    await Promise.race([Promise.allSettled([...handling]), sleep(CLOSE_GRACE_MS, undefined, { ref: false })]);
    server.closeAllConnections();
    await stopped;
  };

  return {
    url: `http://${host}:${port}`,
    port,
    options,
    registry: ctx.metrics.registry,
    get stats() {
      return readStats(ctx);
    },
    recordedRequests: () => ctx.recorder?.list() ?? [],
    setFailure: (config) => ctx.failures.set(config),
    killEngine: () => engine.kill(),
    reviveEngine: () => engine.revive(),
    close: () => (closing ??= shutdown()),
  };
}

async function dispatch(
  routes: RouteTable,
  authorized: ReturnType<typeof createApiKeyCheck>,
  req: IncomingMessage,
  res: ServerResponse,
  arrivedAt: number,
  closing: boolean,
): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://simulator').pathname;
  // Before routing, as vLLM's middleware: an unknown /v1 path without the key is a 401 too.
  if (!authorized(req, path)) return sendJson(res, 401, { error: 'Unauthorized' });
  const methods = routes[path];
  // FastAPI's bodies for unknown paths and methods, which is what vLLM answers.
  if (!methods) return sendJson(res, 404, { detail: 'Not Found' });
  const handler = methods[req.method ?? 'GET'];
  if (!handler) return sendJson(res, 405, { detail: 'Method Not Allowed' });
  if (closing) throw new SimulatorError(503, 'The server is shutting down.');
  await handler(req, res, arrivedAt);
}
