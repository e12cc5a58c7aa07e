import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { SimulatorContext } from './context.ts';
import { sendJson } from './errors.ts';
import { readJson } from './read-json.ts';
import { serveCompletion } from './serve-completion.ts';
import { serveEmbeddings } from './serve-embeddings.ts';

export type Handler = (req: IncomingMessage, res: ServerResponse, arrivedAt: number) => Promise<void> | void;
/** Path → method → handler. */
export type RouteTable = Record<string, Partial<Record<string, Handler>>>;

/** The routes a real `vllm serve` exposes (the subset the platform uses). */
export function openAiRoutes(ctx: SimulatorContext): RouteTable {
  const { options, engine, metrics } = ctx;
  return {
    '/v1/chat/completions': {
      POST: async (req, res, arrivedAt) => serveCompletion(ctx, 'chat', res, await readJson(req, ctx.recorder), arrivedAt),
    },
    '/v1/completions': {
      POST: async (req, res, arrivedAt) => serveCompletion(ctx, 'text', res, await readJson(req, ctx.recorder), arrivedAt),
    },
    '/v1/embeddings': {
      POST: async (req, res, arrivedAt) => serveEmbeddings(ctx, res, await readJson(req, ctx.recorder), arrivedAt),
    },
    '/v1/models': {
      GET: (_req, res) => sendJson(res, 200, modelList(options.model, options.maxModelLen)),
    },
    '/health': {
      GET: (_req, res) => {
        res.writeHead(engine.alive ? 200 : 503, { 'content-length': 0 });
        res.end();
      },
    },
    '/metrics': {
      GET: async (_req, res) => {
        const text = await metrics.registry.metrics();
        res.writeHead(200, { 'content-type': metrics.registry.contentType });
        res.end(text);
      },
    },
  };
}

function modelList(model: string, maxModelLen: number): object {
  const created = Math.floor(Date.now() / 1000);
  return {
    object: 'list',
    data: [
      {
        id: model,
        object: 'model',
        created,
        owned_by: 'vllm',
        root: model,
        parent: null,
        max_model_len: maxModelLen,
        permission: [
          {
            id: `modelperm-${randomBytes(16).toString('hex')}`,
            object: 'model_permission',
            created,
            allow_create_engine: false,
            allow_sampling: true,
            allow_logprobs: true,
            allow_search_indices: false,
            allow_view: true,
            allow_fine_tuning: false,
            organization: '*',
            group: null,
            is_blocking: false,
          },
        ],
      },
    ],
  };
}
