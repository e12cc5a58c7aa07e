import { createServer } from 'node:http';
import { createPrismaClient } from '@cic/db';
import { createRedis } from '@cic/core/lib/redis';
import { TopicBus } from '@cic/core/lib/topic-bus';
import { nodeSecretBoxOf } from '@cic/core/nodes/node-secret';
import { JOB_CATALOG, JOB_QUEUES, jobDefinition, MAINTENANCE_QUEUE, NODE_LIFECYCLE_QUEUE, type JobName } from '@cic/core/jobs/job-catalog';
import type { Logger } from '@cic/core/logger';
import { Queue, Worker } from 'bullmq';
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { JobsConfig } from './config.ts';
import { ensureLocalNode } from './ensure-local-node.ts';
import { reconcileLocalNodes } from './handlers/reconcile-nodes.ts';
import { createJobsMetrics } from './metrics.ts';
import { createProcessor } from './processor.ts';
import { createProviders } from './providers/index.ts';
import { assertNoEviction } from './redis-policy.ts';
import { stopLocalNodes } from './stop-local-nodes.ts';

export interface BuildWorkersOptions {
  config: JobsConfig;
  log: Logger;
}

/** Per-queue concurrency: launches wait minutes on sky/vLLM, periodic jobs are short. */
const CONCURRENCY: Record<string, number> = { [NODE_LIFECYCLE_QUEUE]: 8, [MAINTENANCE_QUEUE]: 3 };

/** How long interrupted handlers get to hand their jobs back before the workers close regardless. */
const HANDBACK_WAIT_MS = 5_000;

/** Whether `promise` settles within `ms`. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const settled = await Promise.race([
    promise.then(() => true, () => true),
    new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), ms); }),
  ]);
  clearTimeout(timer);
  return settled;
}

/** Wires the job workers and their /metrics + /healthz server. Returns `{ start, stop }`. */
export function buildWorkers({ config, log }: BuildWorkersOptions) {
  const prisma = createPrismaClient({ databaseUrl: config.DATABASE_URL, poolSize: 5 });
  // BullMQ needs maxRetriesPerRequest: null: its blocking commands must wait across reconnects.
  const redis = createRedis(config.REDIS_URL, log, { maxRetriesPerRequest: null });
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // The workers only publish: the bus never opens its subscriber connection here.
  const bus = new TopicBus({ redis, prefix: config.REDIS_CHANNEL_PREFIX, log, registry });
  const providers = createProviders(config);
  const nodeSecrets = nodeSecretBoxOf(config);
  const queues = JOB_QUEUES.map((name) => new Queue(name, { connection: redis, prefix: config.BULLMQ_PREFIX }));
  const metrics = createJobsMetrics(registry, () => queues, prisma);
  const lifecycle = queues.find((q) => q.name === NODE_LIFECYCLE_QUEUE)!;
  // Aborted by stop() once the grace period has passed: in-flight handlers give their jobs back.
  const stopping = new AbortController();
  const processor = createProcessor({ prisma, redis, bus, config, log, providers, nodeSecrets, metrics, lifecycle, stopping: stopping.signal });
  const workers = queues.map((queue) => new Worker(queue.name, processor, {
    connection: redis,
    prefix: config.BULLMQ_PREFIX,
    concurrency: CONCURRENCY[queue.name] ?? 1,
    autorun: false,
    lockDuration: config.JOBS_LOCK_DURATION_MS,
    stalledInterval: config.JOBS_STALLED_INTERVAL_MS,
    // A worker crash mid-launch stalls the job; allow two such crashes before failing it.
    maxStalledCount: 2,
  }));
  for (const queue of queues) queue.on('error', (err) => log.warn({ err: err.message, queue: queue.name }, 'queue error'));
  for (const worker of workers) {
    worker.on('error', (err) => log.warn({ err: err.message, queue: worker.name }, 'worker error'));
    worker.on('failed', (job, err) => {
      if (job && job.attemptsMade >= (job.opts.attempts ?? 1)) log.error({ jobId: job.id, job: job.name, err: err.message }, 'job failed for good');
    });
  }

  // The catalog's periodic jobs, each added by its own scheduler with the catalog's options.
  const upsertSchedulers = async () => {
    for (const name of Object.keys(JOB_CATALOG) as JobName[]) {
      const { queue, every, attempts, backoff, retention } = jobDefinition(name);
      if (!every) continue;
      await queues.find((q) => q.name === queue)!.upsertJobScheduler(name, { every: every(config) }, { name, data: {}, opts: { attempts, backoff, ...retention } });
    }
  };

  const server = createServer((req, res) => {
    if (req.url === '/metrics') {
      registry.metrics().then((body) => {
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(body);
      }, () => res.writeHead(500).end());
    } else if (req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    } else {
      res.writeHead(404).end();
    }
  });

  return {
    prisma,
    redis,
    bus,
    registry,
    queues,
    providers,
    /** The handlers' context, for running one handler directly (tests, start-up reconcile). */
    handlerContext: (signal: AbortSignal) => ({ prisma, redis, bus, config, log, providers, nodeSecrets, metrics, lifecycle, signal, stopping: stopping.signal }),
    async start(): Promise<{ url: string }> {
      await assertNoEviction(redis);
      await upsertSchedulers();
      // A Redis that restarted without its data (no persistence) lost the schedulers: put them back.
      redis.on('ready', () => void upsertSchedulers().catch((err: unknown) => log.warn({ err }, 'could not restore job schedulers')));
      // Before anything routes to them (and before LOCAL_NODE_AT_BOOT looks): local nodes of a previous
      // worker process are gone. SkyPilot waits for the periodic reconcile: `sky status` can take minutes.
      await reconcileLocalNodes({ prisma, redis, bus, config, log, providers, nodeSecrets, metrics, lifecycle, signal: AbortSignal.timeout(60_000), stopping: stopping.signal })
        .catch((err: unknown) => log.warn({ err }, 'start-up reconcile failed'));
      for (const worker of workers) void worker.run();
      if (config.LOCAL_NODE_AT_BOOT) await ensureLocalNode({ prisma, queue: lifecycle, bus, log });
      await new Promise<void>((resolve) => server.listen(config.JOBS_PORT, config.HOST, resolve));
      const addr = server.address();
      const url = `http://${config.HOST}:${typeof addr === 'object' && addr ? addr.port : config.JOBS_PORT}`;
      log.info({ url }, 'job workers started');
      return { url };
    },
    /**
     * Lets in-flight jobs finish for SHUTDOWN_GRACE_SECONDS, then interrupts them: each is handed back to
     * the queue as it is (a launch resumes from its node's status on the next worker). A handler that
     * does not give up within HANDBACK_WAIT_MS is left behind; its job stalls and is retried elsewhere.
     */
    async stop(): Promise<void> {
      const graceful = Promise.all(workers.map((w) => w.close()));
      if (!(await settlesWithin(graceful, config.SHUTDOWN_GRACE_SECONDS * 1000))) {
        log.warn('in-flight jobs did not finish within the grace period: handing them back');
        stopping.abort(new Error('the worker is stopping'));
        if (!(await settlesWithin(graceful, HANDBACK_WAIT_MS))) await Promise.all(workers.map((w) => w.close(true)));
      }
      await stopLocalNodes({ prisma, bus, local: providers.local, log }).catch((err: unknown) => log.warn({ err }, 'stopping local nodes failed'));
      await Promise.all(queues.map((q) => q.close()));
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
      await bus.close();
      await Promise.allSettled([prisma.$disconnect(), redis.quit()]);
      log.info('job workers stopped');
    },
  };
}
