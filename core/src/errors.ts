/**
 * The closed set of errors the API answers with. Each code maps to one HTTP status, one GraphQL
 * `extensions.code` and one OpenAI error `type` on /v1, so every transport speaks the same model.
 */
export const ERROR_CODES = {
  BAD_REQUEST: { status: 400, graphql: 'BAD_USER_INPUT', openaiType: 'invalid_request_error' },
  UNAUTHENTICATED: { status: 401, graphql: 'UNAUTHENTICATED', openaiType: 'authentication_error' },
  INSUFFICIENT_QUOTA: { status: 402, graphql: 'INSUFFICIENT_QUOTA', openaiType: 'insufficient_quota' },
  FORBIDDEN: { status: 403, graphql: 'FORBIDDEN', openaiType: 'permission_error' },
  NOT_FOUND: { status: 404, graphql: 'NOT_FOUND', openaiType: 'invalid_request_error' },
  METHOD_NOT_ALLOWED: { status: 405, graphql: 'METHOD_NOT_ALLOWED', openaiType: 'invalid_request_error' },
  CONFLICT: { status: 409, graphql: 'CONFLICT', openaiType: 'invalid_request_error' },
  /** The request's headers or body did not arrive within the server's deadline (slow or stalled client). */
  REQUEST_TIMEOUT: { status: 408, graphql: 'REQUEST_TIMEOUT', openaiType: 'invalid_request_error' },
  PAYLOAD_TOO_LARGE: { status: 413, graphql: 'PAYLOAD_TOO_LARGE', openaiType: 'invalid_request_error' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, graphql: 'BAD_USER_INPUT', openaiType: 'invalid_request_error' },
  RATE_LIMITED: { status: 429, graphql: 'RATE_LIMITED', openaiType: 'rate_limit_error' },
  /** An API key reached its own daily or monthly spend budget (OpenAI answers a spent quota with 429 too). */
  BUDGET_EXCEEDED: { status: 429, graphql: 'BUDGET_EXCEEDED', openaiType: 'insufficient_quota' },
  /** Too many subscriptions open at once (per socket, key/user or organization): close one first. */
  SUBSCRIPTION_LIMIT: { status: 429, graphql: 'SUBSCRIPTION_LIMIT', openaiType: 'rate_limit_error' },
  INTERNAL: { status: 500, graphql: 'INTERNAL_SERVER_ERROR', openaiType: 'server_error' },
  BAD_GATEWAY: { status: 502, graphql: 'BAD_GATEWAY', openaiType: 'server_error' },
  UNAVAILABLE: { status: 503, graphql: 'SERVICE_UNAVAILABLE', openaiType: 'server_error' },
  UPSTREAM_TIMEOUT: { status: 504, graphql: 'GATEWAY_TIMEOUT', openaiType: 'server_error' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface AppErrorOptions {
  /** The request field at fault (OpenAI's `param`). */
  param?: string | null;
  /** A machine-readable detail (OpenAI's `code`, e.g. `invalid_api_key`, `model_not_found`). */
  detail?: string | null;
  /** Extra response headers (e.g. Retry-After). */
  headers?: Record<string, string>;
  cause?: unknown;
}

/** An expected error: its message is safe to show to the client. */
export class AppError extends Error {
  override name = 'AppError';
  readonly code: ErrorCode;
  readonly param: string | null;
  readonly detail: string | null;
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.code = code;
    this.param = options.param ?? null;
    this.detail = options.detail ?? null;
    this.headers = options.headers ?? {};
  }

  get status(): number {
    return ERROR_CODES[this.code].status;
  }
}

/** Anything that is not an AppError is masked: clients see only this message and the request id. */
export const MASKED_MESSAGE = 'Unexpected error.';

export function toAppError(err: unknown): AppError {
  return err instanceof AppError ? err : new AppError('INTERNAL', MASKED_MESSAGE, { cause: err });
}
