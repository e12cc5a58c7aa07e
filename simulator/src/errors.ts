import type { ServerResponse } from 'node:http';

/** The `type` values vLLM puts in its error bodies, keyed by HTTP status. */
const ERROR_TYPES = {
  400: 'BadRequestError',
  404: 'NotFoundError',
  429: 'RateLimitError',
  500: 'InternalServerError',
  503: 'ServiceUnavailableError',
} as const;
export type ErrorStatus = keyof typeof ERROR_TYPES;

/** An error with vLLM's wire shape; anything else thrown by a handler becomes a masked 500. */
export class SimulatorError extends Error {
  override readonly name = 'SimulatorError';
  constructor(
    readonly status: ErrorStatus,
    message: string,
    readonly param: string | null = null,
    /** Set on injected failures so a test (or a human with curl) can tell them from real ones. */
    readonly injected?: string,
  ) {
    super(message);
  }

  toBody(): { error: { message: string; type: string; param: string | null; code: number } } {
    return {
      error: { message: this.message, type: ERROR_TYPES[this.status], param: this.param, code: this.status },
    };
  }
}

export const badRequest = (message: string, param: string | null = null): SimulatorError =>
  new SimulatorError(400, message, param);

export const modelNotFound = (model: string, injected?: string): SimulatorError =>
  new SimulatorError(404, `The model \`${model}\` does not exist.`, 'model', injected);

export function contextTooLong(maxModelLen: number, promptTokens: number, maxTokens?: number): SimulatorError {
  const message =
    maxTokens === undefined
      ? `This model's maximum context length is ${maxModelLen} tokens. However, your request has ` +
        `${promptTokens} input tokens. Please reduce the length of the input messages.`
      : `This model's maximum context length is ${maxModelLen} tokens. However, you requested ` +
        `${promptTokens + maxTokens} tokens (${promptTokens} in the messages, ${maxTokens} in the ` +
        `completion). Please reduce the length of the messages or completion.`;
  return new SimulatorError(400, message);
}

/** Its own class so the handler can count queue rejections apart from other 503s. */
export class OverloadedError extends SimulatorError {
  constructor() {
    super(503, 'The server is overloaded: the waiting queue is full. Please retry later.');
  }
}

export const overloaded = (): SimulatorError => new OverloadedError();

export const engineDead = (): SimulatorError =>
  new SimulatorError(503, 'The engine is dead and cannot serve requests.');

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(payload),
    ...headers,
  });
  res.end(payload);
}

export function sendError(res: ServerResponse, error: unknown): void {
  const known =
    error instanceof SimulatorError ? error : new SimulatorError(500, 'Unexpected error.');
  if (!(error instanceof SimulatorError)) console.error('simulator: unexpected error', error);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, known.status, known.toBody(), known.injected ? { 'x-sim-failure': known.injected } : {});
}
