import { AppError } from '@cic/core/errors';
import type { AuthenticatedKey } from '@cic/core/api-keys/key-authenticator';
import type { ServedModelInfo } from './node-registry.ts';

/*
 * The per-key spend controls on the request path: which models a key may call, what a request costs
 * against its budgets, and the OpenAI `user` field recorded with its usage.
 */

/** The 404 of a model that does not exist: a model a key may not call answers exactly the same. */
export const modelNotFound = (model: string): AppError =>
  new AppError('NOT_FOUND', `The model '${model}' does not exist or you do not have access to it.`, { param: 'model', detail: 'model_not_found' });

/** Whether the key's allowed-models list (empty = all) lets it call `model`. */
export const keyMayCall = (key: Pick<AuthenticatedKey, 'allowedModels'>, model: string): boolean =>
  key.allowedModels.length === 0 || key.allowedModels.includes(model);

/** A request's cost in micro-dollars at the model's current prices, rounded up (prices are per million tokens). */
export function costMicros(model: Pick<ServedModelInfo, 'promptPriceMicros' | 'completionPriceMicros'> | undefined, promptTokens: number, completionTokens: number): number {
  if (!model) return 0;
  return Math.ceil((promptTokens * model.promptPriceMicros + completionTokens * model.completionPriceMicros) / 1_000_000);
}

/** OpenAI caps `user` at 256 characters too. */
const MAX_USER_LENGTH = 256;

/** The body's `user` (the caller's end user), or null; a non-string or over-long one is a 400 as OpenAI answers. */
export function requestUser(body: unknown): string | null {
  const user = (body as { user?: unknown }).user;
  if (user === undefined || user === null) return null;
  if (typeof user !== 'string') throw new AppError('BAD_REQUEST', "Invalid type for 'user': expected a string.", { param: 'user', detail: 'invalid_type' });
  if (user.length > MAX_USER_LENGTH) {
    throw new AppError('BAD_REQUEST', `Invalid 'user': string too long. Expected a string with maximum length ${MAX_USER_LENGTH}, but got a string with length ${user.length} instead.`, { param: 'user', detail: 'string_above_max_length' });
  }
  return user.length > 0 ? user : null;
}
