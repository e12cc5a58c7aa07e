import { z } from 'zod';

/** Thrown when the environment does not parse; the message names every bad variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Parses `env` against a zod object schema once, at start-up. A bad or missing variable stops the
 * service with one line per variable saying what was expected.
 */
export function parseEnv<S extends z.ZodObject>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const name = issue.path.join('.');
    return `${name}=${JSON.stringify(env[name] ?? null)}: ${issue.message}`;
  });
  throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
}

/** A TCP port number given as a string. */
export const portVar = (fallback: number) => z.coerce.number({ error: 'expected a port number (1-65535)' })
  .int('expected a port number (1-65535)').min(0, 'expected a port number (1-65535)').max(65535, 'expected a port number (1-65535)')
  .default(fallback);

/** A boolean flag given as true/false/1/0. */
export const boolVar = (fallback: boolean) => z.enum(['true', 'false', '1', '0'], { error: 'expected true or false' })
  .default(fallback ? 'true' : 'false').transform((v) => v === 'true' || v === '1');

/** A URL whose scheme is one of `protocols`. */
export const urlVar = (protocols: string[]) => z.url({
  protocol: new RegExp(`^(${protocols.join('|')})$`),
  error: (issue) => (issue.input === undefined ? 'required' : `expected a ${protocols.join(' or ')} URL`),
});

export const logLevelVar = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info');
