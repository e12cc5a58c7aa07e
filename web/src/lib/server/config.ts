import { env } from '$env/dynamic/private';
import { webEnvSchema, type WebConfig } from './env-schema';

let parsed: WebConfig | undefined;

/** The dashboard's config, parsed once; a bad value fails with every bad variable named. */
export function config(): WebConfig {
  if (parsed) return parsed;
  const result = webEnvSchema.safeParse(env);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new Error(`invalid dashboard configuration:\n  ${lines.join('\n  ')}`);
  }
  parsed = result.data;
  return parsed;
}

export const apiUrl = (): string => config().API_URL;
/** The API as the browser reaches it. */
export const publicApiUrl = (): string => config().PUBLIC_API_URL ?? config().API_URL;
