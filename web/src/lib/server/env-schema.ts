import { z } from 'zod';

const optional = z.string().min(1).optional();

/** The dashboard server's environment (HOST, PORT and ORIGIN are read by adapter-node itself). */
export const webEnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  ORIGIN: z.url().optional(),
  /** Where the dashboard's server side reaches the API. */
  API_URL: z.url().default('http://127.0.0.1:4000'),
  /** The API's address as browsers see it: the OpenAI base URL in snippets and the graphql-ws endpoint. */
  PUBLIC_API_URL: z.url().optional(),
  /** Encrypts the Auth.js session cookie (a JWT). */
  AUTH_SECRET: z.string().min(32, 'expected at least 32 characters'),
  /** Signs the short-lived tokens the API accepts as the signed-in user (shared with the API). */
  SESSION_TOKEN_SECRET: z.string().min(32, 'expected at least 32 characters'),
  /** Shared with the API: authenticates the Auth.js adapter's calls to /internal/auth/*. */
  INTERNAL_AUTH_SECRET: z.string().min(32, 'expected at least 32 characters'),
  /** How long a dashboard sign-in lasts, in seconds. */
  AUTH_SESSION_MAX_AGE_SECONDS: z.coerce.number().int().min(60).default(7 * 24 * 3600),
  AUTH_GOOGLE_ID: optional,
  AUTH_GOOGLE_SECRET: optional,
  /** A generic OpenID Connect provider (tests use a local issuer standing in for Google). */
  AUTH_OIDC_ISSUER: z.url().optional(),
  AUTH_OIDC_ID: optional,
  AUTH_OIDC_SECRET: optional,
  AUTH_OIDC_NAME: z.string().min(1).default('Single sign-on'),
  /** SMTP URL for magic links, e.g. smtp://user:pass@smtp.example.com:587; unset = links go to the log. */
  EMAIL_SERVER: z.url().optional(),
  EMAIL_FROM: z.string().min(3).default('CIC <no-reply@cic.local>'),
});

export type WebConfig = z.infer<typeof webEnvSchema>;
