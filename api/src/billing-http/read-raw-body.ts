import type { IncomingMessage } from 'node:http';
import { AppError } from '../errors.ts';

/**
 * Reads a request body as the exact bytes sent: a signature is computed over them, so nothing may parse
 * or re-encode the body first. Bodies above `limitBytes` are refused with 413 without being buffered.
 */
export async function readRawBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const tooLarge = () => new AppError('PAYLOAD_TOO_LARGE', `Request body exceeds the limit of ${limitBytes} bytes.`);
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limitBytes) {
    req.resume();
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limitBytes) {
      req.resume();
      throw tooLarge();
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}
