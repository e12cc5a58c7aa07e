import type { IncomingMessage, ServerResponse } from 'node:http';
import { AppError } from '@cic/core/errors';
import type { AuthenticatedKey } from '@cic/core/api-keys/key-authenticator';
import { sendJson, setHeaders } from '../../http/respond.ts';
import type { RouteGroup } from '../../http/router.ts';
import { authenticateRequest } from '../authenticate-request.ts';
import type { InferenceDeps } from '../inference-deps.ts';
import { keyMayCall } from '../key-spend.ts';
import type { ServedModelInfo } from '../node-registry.ts';

/** OpenAI's model object, plus vLLM's `max_model_len`. */
export interface ModelObject { id: string; object: 'model'; created: number; owned_by: 'cic'; max_model_len: number }

/** OpenAI's model list. */
export interface ModelListResponse {
  object: 'list';
  data: ModelObject[];
}

const MODEL_PREFIX = '/v1/models/';

const modelObject = (m: ServedModelInfo): ModelObject => ({ id: m.name, object: 'model', created: m.created, owned_by: 'cic', max_model_len: m.maxModelLen });

/** The key, once it passed authentication and took one request of its RPM (model reads cost one request). */
async function admitModelRead(req: IncomingMessage, res: ServerResponse, { keys, rateLimiter }: InferenceDeps): Promise<AuthenticatedKey> {
  const key = await authenticateRequest(req, keys);
  const decision = await rateLimiter.acquire(key.id, key.limits, 0);
  setHeaders(res, decision.headers);
  if (!decision.allowed) {
    throw new AppError('RATE_LIMITED', 'Rate limit reached for requests per minute.', { detail: 'rate_limit_exceeded', headers: { 'retry-after': String(decision.retryAfterSeconds) } });
  }
  return key;
}

/** The model name in `/v1/models/{id}`: percent-encoded (`Qwen%2FQwen2.5-7B`, as the openai SDK sends it) or raw (`Qwen/Qwen2.5-7B`). */
function modelIdOf(path: string): string | undefined {
  try {
    return decodeURIComponent(path.slice(MODEL_PREFIX.length));
  } catch {
    return undefined;
  }
}

/**
 * GET /v1/models: the models at least one READY node serves now that the key may call (public ones and those
 * limited to its organization, within the key's allowed models). GET /v1/models/{id}: one of them, or 404 `model_not_found` for any other
 * name (a model limited to another organization answers exactly as one that does not exist).
 */
export function registerModels(v1: RouteGroup, deps: InferenceDeps): void {
  const { registry } = deps;
  const callable = (key: AuthenticatedKey) => registry.servedModels(key.organizationId).filter((m) => keyMayCall(key, m.name));
  v1.on('GET', '/v1/models', async (req, res) => {
    const key = await admitModelRead(req, res, deps);
    const body: ModelListResponse = { object: 'list', data: callable(key).map(modelObject) };
    sendJson(res, 200, body);
  });
  v1.on('GET', `${MODEL_PREFIX}*`, async (req, res, ctx) => {
    const key = await admitModelRead(req, res, deps);
    const id = modelIdOf(ctx.path);
    const model = id ? callable(key).find((m) => m.name === id) : undefined;
    if (!model) throw new AppError('NOT_FOUND', `The model '${id ?? ctx.path.slice(MODEL_PREFIX.length)}' does not exist or you do not have access to it.`, { param: 'model', detail: 'model_not_found' });
    sendJson(res, 200, modelObject(model));
  });
}
