import type { IncomingMessage } from 'node:http';

/** One request as it reached the simulator: the body is the exact bytes received, base64-encoded. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body_base64: string;
}

/** Bounds memory when a long load test runs with recording on; the oldest entries go first. */
const MAX_RECORDED = 1000;

/**
 * `--record-requests`: keeps what clients sent, for `GET /_sim/requests`, so a proxy test can assert
 * the bytes it forwarded were the client's own (numbers beyond 2^53, key order, whitespace).
 */
export interface RequestRecorder {
  record(req: IncomingMessage, path: string, body: Buffer): void;
  list(): RecordedRequest[];
  clear(): void;
}

export function createRequestRecorder(): RequestRecorder {
  const recorded: RecordedRequest[] = [];
  return {
    record(req, path, body) {
      recorded.push({ method: req.method ?? 'GET', path, headers: { ...req.headers }, body_base64: body.toString('base64') });
      if (recorded.length > MAX_RECORDED) recorded.shift();
    },
    list: () => [...recorded],
    clear: () => {
      recorded.length = 0;
    },
  };
}
