import type { IncomingMessage } from 'node:http';
import { badRequest } from './errors.ts';
import type { RequestRecorder } from './request-recorder.ts';

/** Far above any prompt that fits a context window; stops a runaway client from filling memory. */
const MAX_BODY_BYTES = 32 * 1024 * 1024;

/** Reads and parses a JSON body; with `--record-requests` the raw bytes are kept first, even if they do not parse. */
export async function readJson(req: IncomingMessage, recorder?: RequestRecorder): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw badRequest(`Request body is larger than ${MAX_BODY_BYTES} bytes.`);
    chunks.push(chunk);
  }
  const bytes = Buffer.concat(chunks);
  recorder?.record(req, new URL(req.url ?? '/', 'http://simulator').pathname, bytes);
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch (error) {
    throw badRequest(`JSON decode error: ${(error as Error).message}`);
  }
}
