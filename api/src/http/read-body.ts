import type { IncomingMessage } from 'node:http';
import { AppError } from '@cic/core/errors';

// The rest of the body is never read: close the connection, so the client cannot wait on it forever.
const tooLarge = (limit: number) =>
  new AppError('PAYLOAD_TOO_LARGE', `Request body exceeds the limit of ${limit} bytes.`, { detail: 'request_too_large', headers: { connection: 'close' } });

/**
 * Reads a request body as the exact bytes sent (signatures are computed over them, and proxied bodies
 * are forwarded unchanged). Bodies above `limitBytes` are refused with 413 without being buffered.
 */
export async function readRawBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
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
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
}
