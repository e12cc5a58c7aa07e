import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/**
 * vLLM's AuthenticationMiddleware: with `--api-key`, every path under `/v1` (and, here, the `/_sim`
 * control routes) needs `Authorization: Bearer <key>` (scheme case-insensitive); OPTIONS, `/health`,
 * `/metrics` and the rest stay open. Digests are compared in constant time, as vLLM does.
 * Returns true when the request may go on.
 */
export function createApiKeyCheck(apiKey: string | undefined): (req: IncomingMessage, path: string) => boolean {
  if (!apiKey) return () => true;
  const expected = digest(apiKey);
  return (req, path) => {
    if (req.method === 'OPTIONS' || !(path.startsWith('/v1') || path.startsWith('/_sim'))) return true;
    const header = req.headers.authorization ?? '';
    const space = header.indexOf(' ');
    const scheme = space < 0 ? header : header.slice(0, space);
    if (scheme.toLowerCase() !== 'bearer') return false;
    return timingSafeEqual(digest(space < 0 ? '' : header.slice(space + 1)), expected);
  };
}
