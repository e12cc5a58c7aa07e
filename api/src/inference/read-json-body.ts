import type { IncomingMessage } from 'node:http';
import { AppError } from '@cic/core/errors';
import { jsonDeeperThan } from '../http/json-depth.ts';
import { readRawBody } from '../http/read-body.ts';

export interface ReadJsonBodyOptions {
  req: IncomingMessage;
  /** Larger bodies are refused with 413 without being read to the end. */
  limitBytes: number;
  /** Deeper nesting is refused with 400 before anything walks or re-serialises the value. */
  maxDepth: number;
}

/**
 * Reads a JSON body under a byte limit. Returns the raw bytes too, so a body that needs no change can be
 * forwarded upstream exactly as the client sent it.
 */
export async function readJsonBody({ req, limitBytes, maxDepth }: ReadJsonBodyOptions): Promise<{ raw: Buffer; value: unknown }> {
  const raw = await readRawBody(req, limitBytes);
  if (raw.length === 0) throw new AppError('BAD_REQUEST', 'Request body is empty; expected a JSON object.', { detail: 'invalid_json' });
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8')) as unknown;
  } catch {
    throw new AppError('BAD_REQUEST', 'Request body is not valid JSON.', { detail: 'invalid_json' });
  }
  if (jsonDeeperThan(value, maxDepth)) {
    throw new AppError('BAD_REQUEST', `Request body nests arrays or objects deeper than ${maxDepth} levels.`, { detail: 'json_too_deep' });
  }
  return { raw, value };
}
