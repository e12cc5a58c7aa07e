import { z } from 'zod';

const optional = z.string().min(1).optional();

/**
 * The dashboard server's environment (HOST, PORT, ORIGIN, ADDRESS_HEADER and XFF_DEPTH are also read by
 * adapter-node itself).
 */
export const webEnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /**
   * The dashboard's public URL (scheme, host, port; no path), e.g. https://cic.example.com. The only
   * source of the links the dashboard mints (magic links, OAuth callbacks) and of the CSRF origin:
   * Host and X-Forwarded-Host/-Proto are never read, so a client cannot move them elsewhere.
   */
  ORIGIN: z.url({ protocol: /^https?$/, error: (i) => (i.input === undefined ? 'required: the dashboard\'s public URL, e.g. https://cic.example.com' : 'expected an http(s) URL') })
    .refine((u) => new URL(u).origin === u.replace(/\/$/, ''), 'expected an origin only (scheme, host and port; no path, query or credentials)')
    .transform((u) => new URL(u).origin),
  /** Auth.js would take the public URL from here instead of ORIGIN; refused so there is one source. */
  AUTH_URL: z.never({ error: 'not used: set ORIGIN to the dashboard\'s public URL instead' }).optional(),
  /**
   * Behind a trusted reverse proxy: the header that carries the client's address (`X-Forwarded-For`),
   * used for the per-client sign-in limit. Unset = the socket's address; never set it without a proxy
   * that overwrites the header, or clients choose their own address.
   */
  ADDRESS_HEADER: z.string().regex(/^[A-Za-z0-9-]+$/, 'expected a header name').optional(),
  /** With ADDRESS_HEADER=X-Forwarded-For: how many trusted proxies append to it (the client is that many from the right). */
  XFF_DEPTH: z.coerce.number().int().min(1).default(1),
  /** Where the dashboard's server side reaches the API. */
  API_URL: z.url().default('http://127.0.0.1:4000'),
  /** The API's address as browsers see it: the OpenAI base URL in snippets and the graphql-ws endpoint. */
  PUBLIC_API_URL: z.url().optional(),
  /** Auth.js's secret: signs its CSRF cookie and hashes magic-link tokens (sessions live in the database). */
  AUTH_SECRET: z.string().min(32, 'expected at least 32 characters'),
  /** Signs the short-lived tokens the API accepts as the signed-in user (shared with the API). */
  SESSION_TOKEN_SECRET: z.string().min(32, 'expected at least 32 characters'),
  /** Shared with the API: authenticates the Auth.js adapter's calls to /internal/auth/*. */
  INTERNAL_AUTH_SECRET: z.string().min(32, 'expected at least 32 characters'),
  /**
   * Lifetime of the token a tab's live connection signs in with (GET /api/token), in seconds. The API
   * closes the socket when it expires and the tab reconnects at once with a fresh one, so a signed-out
   * session stops receiving live events within this time.
   */
  BROWSER_TOKEN_TTL_SECONDS: z.coerce.number().int().min(2).max(3600).default(120),
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
