import { env } from '$env/dynamic/private';
import { webEnvSchema, type WebConfig } from './env-schema';

let parsed: WebConfig | undefined;

/** The dashboard's config, parsed once; a bad value fails the first request with the variable named. */
export function config(): WebConfig {
  parsed ??= webEnvSchema.parse(env);
  return parsed;
}

export const apiUrl = (): string => config().API_URL;
