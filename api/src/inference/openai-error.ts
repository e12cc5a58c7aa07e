import { ERROR_CODES } from '@cic/core/errors';
import { sendJson } from '../http/respond.ts';
import type { ErrorRenderer } from '../http/router.ts';

/** OpenAI's error body: what every SDK parses into its typed APIError subclasses. */
export interface OpenAiErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** The /v1 group's error renderer: OpenAI's shape, with the error's own headers (Retry-After, Allow…). */
export const renderOpenAiError: ErrorRenderer = (res, err) => {
  const body: OpenAiErrorBody = { error: { message: err.message, type: ERROR_CODES[err.code].openaiType, param: err.param, code: err.detail } };
  sendJson(res, err.status, body, err.headers);
};
