import type { IncomingMessage } from 'node:http';
import { AppError } from '../errors.ts';

export interface ReadJsonBodyOptions {
  req: IncomingMessage;
  /** Larger bodies are refused with 413 without being read to the end. */
  limitBytes: number;
}

// The rest of the body is never read: close the connection, so the client cannot wait on it forever.
const tooLarge = (limit: number) =>
  new AppError('PAYLOAD_TOO_LARGE', `Request body exceeds the limit of ${limit} bytes.`, { detail: 'request_too_large', headers: { connection: 'close' } });

/**
 * Reads a JSON body under a byte limit. Returns the raw bytes too, so a body that needs no change can be
 * forwarded upstream exactly as the client sent it.
 */
export async function readJsonBody({ req, limitBytes }: ReadJsonBodyOptions): Promise<{ raw: Buffer; value: unknown }> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limitBytes) {
    req.resume();
    throw tooLarge(limitBytes);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limitBytes) {
      req.resume();
      throw tooLarge(limitBytes);
    }
    chunks.push(chunk);
  }
  const raw = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
  if (size === 0) throw new AppError('BAD_REQUEST', 'Request body is empty; expected a JSON object.', { detail: 'invalid_json' });
  try {
    return { raw, value: JSON.parse(raw.toString('utf8')) as unknown };
  } catch {
    throw new AppError('BAD_REQUEST', 'Request body is not valid JSON.', { detail: 'invalid_json' });
  }
}
