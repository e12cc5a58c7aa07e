import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/** The secrets the API and the dashboard share; each may be set in the environment instead. */
export const SHARED_SECRET_NAMES = ['AUTH_SECRET', 'SESSION_TOKEN_SECRET', 'INTERNAL_AUTH_SECRET'] as const;
export type SharedSecrets = Record<(typeof SHARED_SECRET_NAMES)[number], string>;

/**
 * For `npm start` without configuration: random secrets generated once and kept in `file` (mode 600),
 * so dashboard sessions survive restarts. Values set in `env` win.
 */
export function devSecrets(file: string, env: NodeJS.ProcessEnv): SharedSecrets {
  const saved = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Partial<SharedSecrets>) : {};
  const out = {} as SharedSecrets;
  let changed = false;
  for (const name of SHARED_SECRET_NAMES) {
    const value = env[name] || saved[name];
    if (value) out[name] = value;
    else {
      out[name] = randomBytes(32).toString('base64url');
      changed = true;
    }
  }
  if (changed) writeFileSync(file, `${JSON.stringify({ ...saved, ...out }, null, 2)}\n`, { mode: 0o600 });
  return out;
}
