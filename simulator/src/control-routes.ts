import type { SimulatorContext, SimulatorStats } from './context.ts';
import { badRequest, sendJson } from './errors.ts';
import { failureConfigSchema } from './options.ts';
import { readJson } from './read-json.ts';
import type { RouteTable } from './routes.ts';

/** A snapshot of the counters plus the scheduler's live queue lengths. */
export function readStats(ctx: SimulatorContext): SimulatorStats {
  return { ...ctx.counters, running: ctx.engine.runningCount, waiting: ctx.engine.waitingCount };
}

/**
 * Simulator-only routes under /_sim/ (a real vLLM has none of them), so tests that run the
 * simulator in another process can steer it as in-process tests do through the handle.
 */
export function controlRoutes(ctx: SimulatorContext): RouteTable {
  return {
    '/_sim/failure': {
      GET: (_req, res) => sendJson(res, 200, ctx.failures.config),
      POST: async (req, res) => {
        const parsed = failureConfigSchema.safeParse(await readJson(req));
        if (!parsed.success) throw badRequest(`Invalid failure config: ${parsed.error.issues[0]?.message ?? ''}`);
        ctx.failures.set(parsed.data);
        sendJson(res, 200, ctx.failures.config);
      },
    },
    '/_sim/kill': {
      POST: (_req, res) => {
        ctx.engine.kill();
        sendJson(res, 200, { alive: false });
      },
    },
    '/_sim/revive': {
      POST: (_req, res) => {
        ctx.engine.revive();
        sendJson(res, 200, { alive: true });
      },
    },
    // Only with --record-requests: what clients sent, body bytes untouched (base64); DELETE forgets them.
    ...(ctx.recorder
      ? {
          '/_sim/requests': {
            GET: (_req, res) => sendJson(res, 200, { requests: ctx.recorder?.list() ?? [] }),
            DELETE: (_req, res) => {
              ctx.recorder?.clear();
              sendJson(res, 200, { requests: [] });
            },
          },
        }
      : {}),
    '/_sim/stats': {
      GET: (_req, res) => sendJson(res, 200, readStats(ctx)),
    },
  };
}
