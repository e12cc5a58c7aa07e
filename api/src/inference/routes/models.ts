import { AppError } from '@cic/core/errors';
import { sendJson, setHeaders } from '../../http/respond.ts';
import type { RouteGroup } from '../../http/router.ts';
import { authenticateRequest } from '../authenticate-request.ts';
import type { InferenceDeps } from '../inference-deps.ts';

/** OpenAI's model list, plus vLLM's `max_model_len`. */
export interface ModelListResponse {
  object: 'list';
  data: { id: string; object: 'model'; created: number; owned_by: 'cic'; max_model_len: number }[];
}

/**
 * GET /v1/models: the models at least one READY node serves now that the key's organization may call (public
 * ones, and those limited to it). Costs one request of the key's RPM.
 */
export function registerModels(v1: RouteGroup, { keys, rateLimiter, registry }: InferenceDeps): void {
  v1.on('GET', '/v1/models', async (req, res) => {
    const key = await authenticateRequest(req, keys);
    const decision = await rateLimiter.acquire(key.id, key.limits, 0);
    setHeaders(res, decision.headers);
    if (!decision.allowed) {
      throw new AppError('RATE_LIMITED', 'Rate limit reached for requests per minute.', { detail: 'rate_limit_exceeded', headers: { 'retry-after': String(decision.retryAfterSeconds) } });
    }
    const body: ModelListResponse = {
      object: 'list',
      data: registry.servedModels(key.organizationId).map((m) => ({ id: m.name, object: 'model', created: m.created, owned_by: 'cic', max_model_len: m.maxModelLen })),
    };
    sendJson(res, 200, body);
  });
}
