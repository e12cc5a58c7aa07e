import type { IncomingMessage } from 'node:http';
import { badRequest } from './errors.ts';

/** Far above any prompt that fits a context window; stops a runaway client from filling memory. */
const MAX_BODY_BYTES = 32 * 1024 * 1024;

export async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw badRequest(`Request body is larger than ${MAX_BODY_BYTES} bytes.`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw badRequest(`JSON decode error: ${(error as Error).message}`);
  }
}
