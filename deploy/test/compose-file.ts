import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';

export const ROOT = resolve(import.meta.dirname, '../..');
export const COMPOSE_TEXT = readFileSync(resolve(ROOT, 'docker-compose.yml'), 'utf8');

export interface ComposeService {
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
}

/**
 * docker-compose.yml as compose reads it: parsed, then `${VAR:?message}` and `${VAR:-default}` in its
 * strings interpolated from `vars`. A required variable not in `vars` gets a stand-in shaped like the
 * secrets it stands for (64 characters).
 */
export function loadCompose(vars: Record<string, string> = {}): { services: Record<string, ComposeService> } {
  const interpolate = (value: unknown): unknown => {
    if (typeof value === 'string') {
      return value
        .replace(/\$\{([A-Z_]+):\?[^}]*\}/g, (_m, name: string) => vars[name] ?? `${name.toLowerCase()}-`.padEnd(64, 'x'))
        .replace(/\$\{([A-Z_]+):-([^}]*)\}/g, (_m, name: string, fallback: string) => vars[name] ?? fallback);
    }
    if (Array.isArray(value)) return value.map(interpolate);
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v)]));
    return value;
  };
  return interpolate(parse(COMPOSE_TEXT, { merge: true })) as { services: Record<string, ComposeService> };
}
