import { createPrismaClient, type PrismaClient } from '@cic/db';
import type { Redis } from 'ioredis';
import type { ApiConfig } from './config.ts';
import { registerHealthRoutes } from './http/health-routes.ts';
import { createHttpMetrics } from './http/metrics.ts';
import { Router } from './http/router.ts';
import { createHttpServer } from './http/server.ts';
import { createRedis } from './lib/redis.ts';
import type { Logger } from './logger.ts';

export interface BuildApiOptions {
  config: ApiConfig;
  log: Logger;
}

/**
 * Wires the API server: one HTTP server hosting health, metrics and (as features land) GraphQL at
 * /graphql, the OpenAI-compatible routes under /v1 and Stripe webhooks. Returns `{ start, stop }`.
 */
export function buildApi({ config, log }: BuildApiOptions) {
  const prisma: PrismaClient = createPrismaClient({ databaseUrl: config.DATABASE_URL, poolSize: config.DATABASE_POOL_SIZE });
  const redis: Redis = createRedis(config.REDIS_URL, log);
  const metrics = createHttpMetrics();
  const router = new Router();
  let shuttingDown = false;

  registerHealthRoutes(router, { prisma, redis, registry: metrics.registry, isShuttingDown: () => shuttingDown });

  const http = createHttpServer({ router, metrics, log });

  return {
    prisma,
    redis,
    metrics,
    async start(): Promise<{ url: string; port: number }> {
      const addr = await http.listen(config.PORT, config.HOST);
      log.info({ url: addr.url }, 'api listening');
      return addr;
    },
    async stop(): Promise<void> {
      shuttingDown = true;
      await http.close(config.SHUTDOWN_GRACE_SECONDS * 1000);
      await Promise.allSettled([prisma.$disconnect(), redis.quit()]);
      log.info('api stopped');
    },
  };
}

export type Api = ReturnType<typeof buildApi>;
