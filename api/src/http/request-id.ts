import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** Client-sent ids are accepted only in this shape, so they are safe in logs and response headers. */
const SANE_REQUEST_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export const newRequestId = (): string => `req_${randomBytes(12).toString('hex')}`;

/** The request's id: the client's X-Request-ID when sane, else a fresh `req_…`. */
export function requestIdOf(req: IncomingMessage): string {
  const sent = req.headers['x-request-id'];
  return typeof sent === 'string' && SANE_REQUEST_ID.test(sent) ? sent : newRequestId();
}
