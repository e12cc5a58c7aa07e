import type { PrismaClient } from '@cic/db';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { withTimeout } from '@cic/core/lib/redis';
import { sendJson } from './respond.ts';
import type { Router } from './router.ts';

export interface HealthDeps {
  prisma: PrismaClient;
  redis: Redis;
  registry: Registry;
  /** True once shutdown began: readiness turns 503 so load balancers stop sending traffic. */
  isShuttingDown: () => boolean;
}

const CHECK_TIMEOUT_MS = 1_500;

async function check(what: string, run: () => Promise<unknown>): Promise<string> {
  try {
    await withTimeout(run(), CHECK_TIMEOUT_MS, what);
    return 'ok';
  } catch (err) {
    return `error: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`;
  }
}

/** /healthz (process alive), /readyz (Postgres and Redis answer), /metrics (Prometheus). */
export function registerHealthRoutes(router: Router, deps: HealthDeps): void {
  router.on('GET', '/healthz', (_req, res) => sendJson(res, 200, { status: 'ok' }));

  router.on('GET', '/readyz', async (_req, res) => {
    const [database, redis] = await Promise.all([
      check('database', () => deps.prisma.$queryRaw`SELECT 1`),
      check('redis', () => deps.redis.ping()),
    ]);
    const checks = { database, redis };
    const failed = Object.entries(checks).filter(([, v]) => v !== 'ok').map(([k]) => k);
    if (deps.isShuttingDown()) failed.push('shutting_down');
    sendJson(res, failed.length ? 503 : 200, { status: failed.length ? 'unavailable' : 'ok', failed, checks });
  });

  router.on('GET', '/metrics', async (_req, res) => {
    const body = await deps.registry.metrics();
    res.writeHead(200, { 'content-type': deps.registry.contentType });
    res.end(body);
  });
}
