import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/** The secrets the API and the dashboard share; each may be set in the environment instead. */
export const SHARED_SECRET_NAMES = ['AUTH_SECRET', 'SESSION_TOKEN_SECRET', 'INTERNAL_AUTH_SECRET'] as const;
export type SharedSecrets = Record<(typeof SHARED_SECRET_NAMES)[number], string>;

/**
 * For `npm start` without configuration: random secrets generated once and kept in `file` (mode 600),
 * so dashboard sessions survive restarts (and node keys sealed with NODE_SECRET_KEY stay readable).
 * Values set in `env` win. @defaultValue names: {@link SHARED_SECRET_NAMES}
 */
export function devSecrets<N extends string = (typeof SHARED_SECRET_NAMES)[number]>(
  file: string, env: NodeJS.ProcessEnv, names: readonly N[] = SHARED_SECRET_NAMES as readonly string[] as readonly N[],
): Record<N, string> {
  const saved = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Partial<Record<string, string>>) : {};
  const out = {} as Record<N, string>;
  let changed = false;
  for (const name of names) {
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
