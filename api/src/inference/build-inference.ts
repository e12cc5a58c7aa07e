import type { PrismaClient } from '@cic/db';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { createCors } from '../http/cors.ts';
import type { Router } from '../http/router.ts';
import { duplicateRedis } from '@cic/core/lib/redis';
import type { TopicBus } from '@cic/core/lib/topic-bus';
import type { Logger } from '@cic/core/logger';
import { nodeSecretBoxOf } from '@cic/core/nodes/node-secret';
import type { KeyAuthenticator } from '@cic/core/api-keys/key-authenticator';
import { allowAllCreditGate, type CreditGate } from '@cic/core/billing/credit-gate';
import { createKeyBudgets } from '@cic/core/billing/key-budgets';
import { createAdmissionJournal } from './admission-journal.ts';
import { createAdmissionRecovery } from './admission-recovery.ts';
import type { InferenceDeps } from './inference-deps.ts';
import { createInferenceMetrics } from './inference-metrics.ts';
import type { InferenceSettings } from './inference-settings.ts';
import { NodeRegistry } from './node-registry.ts';
import { renderOpenAiError } from './openai-error.ts';
import { createRateLimiter } from './rate-limiter.ts';
import { registerChatCompletions } from './routes/chat-completions.ts';
import { registerCompletions } from './routes/completions.ts';
import { registerEmbeddings } from './routes/embeddings.ts';
import { registerModels } from './routes/models.ts';
import { createUsageRecorder } from './usage-recorder.ts';
import { createUsageSpool } from './usage-spool.ts';
import { createUsageWriter } from './usage-writer.ts';

/** Response headers a browser script may read: what the SDKs read for request ids, limits and retries. */
const CORS_EXPOSED_HEADERS = [
  'x-request-id', 'retry-after', 'x-ratelimit-limit-requests', 'x-ratelimit-remaining-requests', 'x-ratelimit-reset-requests',
  'x-ratelimit-limit-tokens', 'x-ratelimit-remaining-tokens', 'x-ratelimit-reset-tokens',
];

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
  const metrics = createInferenceMetrics(registry, { topOrganizations: settings.INFERENCE_METRICS_TOP_ORGANIZATIONS });
  const prefix = settings.INFERENCE_REDIS_PREFIX;
  const streamKey = `${prefix}usage`;
  // The hot path's own connection: auto-pipelining sends the rate-limit scripts and usage entries of all
  // requests handled in one event-loop turn in one write, instead of a syscall each; commandTimeout bounds
  // how long a hung Redis can hold a request before the limiter fails open (and usage goes to Postgres).
  const fast = duplicateRedis(redis, log, { enableAutoPipelining: true, commandTimeout: settings.RATE_LIMIT_TIMEOUT_MS });
  const rateLimiter = createRateLimiter({ redis: fast, prefix, log, metrics });
  const nodes = new NodeRegistry({
    prisma, bus, log, metrics, nodeSecrets: nodeSecretBoxOf(settings), refreshMs: settings.INFERENCE_NODE_REFRESH_MS, connectTimeoutMs: settings.INFERENCE_CONNECT_TIMEOUT_MS,
    connections: settings.INFERENCE_UPSTREAM_CONNECTIONS, failureThreshold: settings.CIRCUIT_FAILURE_THRESHOLD, cooldownMs: settings.CIRCUIT_COOLDOWN_MS,
  });
  const admissions = createAdmissionJournal({ redis: fast, prefix, log, livenessTtlMs: settings.ADMISSION_LIVENESS_TTL_MS, checkpointIntervalMs: settings.ADMISSION_CHECKPOINT_MS });
  const spool = createUsageSpool({ dir: settings.USAGE_SPOOL_DIR, prisma, log, metrics });
  const usage = createUsageRecorder({ redis: fast, prisma, streamKey, rateLimiter, journal: admissions, spool, metrics, log });
  const recovery = createAdmissionRecovery({ redis, prefix, journal: admissions, usage, metrics, log, intervalMs: settings.ADMISSION_RECOVERY_INTERVAL_MS });
  const writer = settings.USAGE_WRITER_ENABLED
    ? createUsageWriter({ prisma, reader: duplicateRedis(redis, log), redis, bus, streamKey, log, metrics, batchSize: settings.USAGE_WRITER_BATCH_SIZE })
    : null;
  const keyBudgets = createKeyBudgets({ redis: fast, prefix, log, registry });
  const deps: InferenceDeps = { settings, keys, registry: nodes, rateLimiter, admissions, creditGate, keyBudgets, usage, metrics };

  // Browsers may call /v1 from the configured origins; scripts may read the request id and the rate-limit headers.
  const cors = createCors({ origins: settings.INFERENCE_CORS_ORIGINS, methods: ['GET', 'POST'], exposeHeaders: CORS_EXPOSED_HEADERS });

  return {
    metrics,
    nodes,
    register(router: Router): void {
      // Everything under /v1, unknown paths and wrong methods included, fails in OpenAI's error shape.
      const v1 = router.group('/v1', { renderError: renderOpenAiError, onRequest: cors });
      registerChatCompletions(v1, deps);
      registerCompletions(v1, deps);
      registerEmbeddings(v1, deps);
      registerModels(v1, deps);
    },
    async start(): Promise<void> {
      await nodes.start();
      writer?.start();
      admissions.start();
      spool.start();
      recovery.start();
    },
    /** Call after the HTTP server closed: in-flight requests have recorded their usage by then. */
    async stop(): Promise<void> {
      await recovery.stop();
      await usage.drain();
      await admissions.stop();
      await spool.stop();
      await keyBudgets.drain();
      await writer?.stop();
      await nodes.stop();
      fast.disconnect();
    },
  };
}

export type Inference = ReturnType<typeof buildInference>;
