import type { IncomingMessage } from 'node:http';
import { AppError } from '@cic/core/errors';
import type { AuthenticatedKey, KeyAuthenticator } from '@cic/core/api-keys/key-authenticator';

export const INFERENCE_SCOPE = 'inference';

/** The key behind `Authorization: Bearer …`, which must carry the `inference` scope (401 / 403). */
export async function authenticateRequest(req: IncomingMessage, keys: KeyAuthenticator): Promise<AuthenticatedKey> {
  const header = req.headers.authorization;
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  if (!match) {
    throw new AppError('UNAUTHENTICATED', "You didn't provide an API key. Send it as 'Authorization: Bearer cic_…'.", { detail: 'missing_api_key' });
  }
  const key = await keys.authenticate(match[1]!);
  if (!key.scopes.includes(INFERENCE_SCOPE)) {
    throw new AppError('FORBIDDEN', `This API key lacks the '${INFERENCE_SCOPE}' scope.`, { detail: 'missing_scope' });
  }
  return key;
}
