import type { IncomingMessage } from 'node:http';
import { AppError } from '@cic/core/errors';
import { readRawBody } from '../http/read-body.ts';

export interface ReadJsonBodyOptions {
  req: IncomingMessage;
  /** Larger bodies are refused with 413 without being read to the end. */
  limitBytes: number;
}

/**
 * Reads a JSON body under a byte limit. Returns the raw bytes too, so a body that needs no change can be
 * forwarded upstream exactly as the client sent it.
 */
export async function readJsonBody({ req, limitBytes }: ReadJsonBodyOptions): Promise<{ raw: Buffer; value: unknown }> {
  const raw = await readRawBody(req, limitBytes);
  if (raw.length === 0) throw new AppError('BAD_REQUEST', 'Request body is empty; expected a JSON object.', { detail: 'invalid_json' });
  try {
    return { raw, value: JSON.parse(raw.toString('utf8')) as unknown };
  } catch {
    throw new AppError('BAD_REQUEST', 'Request body is not valid JSON.', { detail: 'invalid_json' });
  }
}
