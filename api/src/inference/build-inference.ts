import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PrismaClient } from '@cic/db';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { AppError, MASKED_MESSAGE, toAppError } from '@cic/core/errors';
import { sendJson } from '../http/respond.ts';
import type { RequestContext, Router } from '../http/router.ts';
import { duplicateRedis } from '@cic/core/lib/redis';
import type { TopicBus } from '@cic/core/lib/topic-bus';
import type { Logger } from '@cic/core/logger';
import type { KeyAuthenticator } from '@cic/core/api-keys/key-authenticator';
import { authenticateRequest } from './authenticate-request.ts';
import { allowAllCreditGate, type CreditGate } from '@cic/core/billing/credit-gate';
import { type CompletionState, handleCompletion } from './handle-completion.ts';
import type { InferenceDeps } from './inference-deps.ts';
import { createInferenceMetrics } from './inference-metrics.ts';
import type { InferenceSettings } from './inference-settings.ts';
import { NodeRegistry } from './node-registry.ts';
import { sendOpenAiError } from './openai-error.ts';
import { createRateLimiter } from './rate-limiter.ts';
import { createUsageRecorder } from './usage-recorder.ts';
import { createUsageWriter } from './usage-writer.ts';

export interface BuildInferenceOptions {
  settings: InferenceSettings;
  prisma: PrismaClient;
  /** The API's command connection (usage writer acknowledgements); the hot path and the writer's blocking reads get duplicates. */
  redis: Redis;
  /** The process's topic bus: `nodeStatusChanged` for the registry, `usageUpdated` from the writer. */
  bus: TopicBus;
  keys: KeyAuthenticator;
  registry: Registry;
  log: Logger;
  /** @defaultValue {@link allowAllCreditGate} */
  creditGate?: CreditGate;
}

/**
 * The OpenAI-compatible inference API under /v1: routes, node registry, rate limiter, usage recorder and
 * writer. `register(router)` mounts it; `start()`/`stop()` run its background parts.
 */
export function buildInference({ settings, prisma, redis, bus, keys, registry, log, creditGate = allowAllCreditGate }: BuildInferenceOptions) {
  const metrics = createInferenceMetrics(registry);
  const prefix = settings.INFERENCE_REDIS_PREFIX;
  const streamKey = `${prefix}usage`;
  // The hot path's own connection: auto-pipelining sends the rate-limit scripts and usage entries of all
  // requests handled in one event-loop turn in one write, instead of a syscall each; commandTimeout bounds
  // how long a hung Redis can hold a request before the limiter fails open (and usage goes to Postgres).
  const fast = duplicateRedis(redis, log, { enableAutoPipelining: true, commandTimeout: settings.RATE_LIMIT_TIMEOUT_MS });
  const rateLimiter = createRateLimiter({ redis: fast, prefix, log, metrics });
  const nodes = new NodeRegistry({
    prisma, bus, log, metrics, refreshMs: settings.INFERENCE_NODE_REFRESH_MS, connectTimeoutMs: settings.INFERENCE_CONNECT_TIMEOUT_MS,
    connections: settings.INFERENCE_UPSTREAM_CONNECTIONS, failureThreshold: settings.CIRCUIT_FAILURE_THRESHOLD, cooldownMs: settings.CIRCUIT_COOLDOWN_MS,
  });
  const usage = createUsageRecorder({ redis: fast, prisma, streamKey, rateLimiter, metrics, log });
  const writer = settings.USAGE_WRITER_ENABLED
    ? createUsageWriter({ prisma, reader: duplicateRedis(redis, log), redis, bus, streamKey, log, metrics, batchSize: settings.USAGE_WRITER_BATCH_SIZE })
    : null;
  const deps: InferenceDeps = { settings, keys, registry: nodes, rateLimiter, creditGate, usage, metrics };

  async function listModels(req: IncomingMessage, res: ServerResponse, state: { headers: Record<string, string> }): Promise<void> {
    const key = await authenticateRequest(req, keys);
    const decision = await rateLimiter.acquire(key.id, key.limits, 0);
    state.headers = decision.headers;
    if (!decision.allowed) {
      throw new AppError('RATE_LIMITED', 'Rate limit reached for requests per minute.', { detail: 'rate_limit_exceeded', headers: { 'retry-after': String(decision.retryAfterSeconds) } });
    }
    const data = nodes.servedModels().map((m) => ({ id: m.name, object: 'model', created: m.created, owned_by: 'cic', max_model_len: m.maxModelLen }));
    sendJson(res, 200, { object: 'list', data }, decision.headers);
  }

  async function dispatch(req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void> {
    const state: CompletionState = { headers: {}, modelLabel: 'unknown', counted: false };
    const method = req.method ?? 'GET';
    const completion = ctx.path === '/v1/chat/completions' || ctx.path === '/v1/completions';
    try {
      if (completion) {
        if (method !== 'POST') throw new AppError('METHOD_NOT_ALLOWED', `${method} is not allowed on ${ctx.path}; use POST.`, { detail: 'method_not_allowed' });
        await handleCompletion(ctx.path === '/v1/completions' ? 'completion' : 'chat', deps, req, res, ctx, state);
      } else if (ctx.path === '/v1/models') {
        if (method !== 'GET' && method !== 'HEAD') throw new AppError('METHOD_NOT_ALLOWED', `${method} is not allowed on /v1/models; use GET.`, { detail: 'method_not_allowed' });
        await listModels(req, res, state);
      } else {
        throw new AppError('NOT_FOUND', `Unknown endpoint: ${method} ${ctx.path}.`, { detail: 'unknown_url' });
      }
    } catch (err) {
      const appError = toAppError(err);
      if (appError.message === MASKED_MESSAGE) ctx.log.error({ err }, 'unexpected error in /v1');
      // Refusals before metering (401, 400, 429, …) are counted here; metered requests already were.
      if (completion && !state.counted) metrics.requests.inc({ model: state.modelLabel, status: String(appError.status) });
      if (!res.headersSent) sendOpenAiError(res, appError, state.headers);
      else if (!res.writableEnded) res.destroy();
    }
  }

  return {
    metrics,
    nodes,
    register(router: Router): void {
      router.on('*', '/v1/*', dispatch);
    },
    async start(): Promise<void> {
      await nodes.start();
      writer?.start();
    },
    /** Call after the HTTP server closed: in-flight requests have recorded their usage by then. */
    async stop(): Promise<void> {
      await usage.drain();
      await writer?.stop();
      await nodes.stop();
      fast.disconnect();
    },
  };
}

export type Inference = ReturnType<typeof buildInference>;
