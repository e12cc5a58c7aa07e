import type { ServerResponse } from 'node:http';
import { type AppError, ERROR_CODES } from '@cic/core/errors';
import { sendJson } from '../http/respond.ts';

/** OpenAI's error body: what every SDK parses into its typed APIError subclasses. */
export interface OpenAiErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export const openAiErrorBody = (err: AppError): OpenAiErrorBody => ({
  error: { message: err.message, type: ERROR_CODES[err.code].openaiType, param: err.param, code: err.detail },
});

/** Answers with the error in OpenAI's shape, plus the error's own headers (Retry-After…) and `extra`. */
export function sendOpenAiError(res: ServerResponse, err: AppError, extra: Record<string, string> = {}): void {
  sendJson(res, err.status, openAiErrorBody(err), { ...extra, ...err.headers });
}
