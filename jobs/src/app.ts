import { createServer } from 'node:http';
import { createPrismaClient } from '@cic/db';
import { createRedis } from '@cic/api/lib/redis';
import type { Logger } from '@cic/api/logger';
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { JobsConfig } from './config.ts';
import { assertNoEviction } from './redis-policy.ts';

export interface BuildWorkersOptions {
  config: JobsConfig;
  log: Logger;
}

/** Wires the job workers and their /metrics + /healthz server. Returns `{ start, stop }`. */
export function buildWorkers({ config, log }: BuildWorkersOptions) {
  const prisma = createPrismaClient({ databaseUrl: config.DATABASE_URL, poolSize: 5 });
  const redis = createRedis(config.REDIS_URL, log, { maxRetriesPerRequest: null });
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

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
    registry,
    async start(): Promise<{ url: string }> {
      await assertNoEviction(redis);
      await new Promise<void>((resolve) => server.listen(config.JOBS_PORT, config.HOST, resolve));
      const addr = server.address();
      const url = `http://${config.HOST}:${typeof addr === 'object' && addr ? addr.port : config.JOBS_PORT}`;
      log.info({ url }, 'job workers started');
      return { url };
    },
    async stop(): Promise<void> {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.allSettled([prisma.$disconnect(), redis.quit()]);
      log.info('job workers stopped');
    },
  };
}
