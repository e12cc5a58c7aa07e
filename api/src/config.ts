import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { boolVar, logLevelVar, parseEnv, portVar, urlVar } from '@cic/core/lib/env';
import type { PlatformRateLimits } from '@cic/core/api-keys/rate-limit-ceilings';
import { DEFAULT_INVITATION_VALID_DAYS } from '@cic/core/organizations/invitation-status';
import { platformSettingsInput, SIGNUP_POLICIES, type PlatformSettingsValues } from '@cic/core/platform/platform-settings';

export const apiEnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: portVar(4000),
  DATABASE_URL: urlVar(['postgres', 'postgresql']),
  REDIS_URL: urlVar(['redis', 'rediss']),
  /** Put before every pub/sub channel name; api and jobs share it, each deployment on one Redis has its own. */
  REDIS_CHANNEL_PREFIX: z.string().min(1).default('cic:'),
  LOG_LEVEL: logLevelVar,
  /** Seconds to let in-flight requests (long streams included) finish on SIGTERM. */
  SHUTDOWN_GRACE_SECONDS: z.coerce.number().positive('expected a positive number of seconds').default(30),
  /**
   * Milliseconds, at the start of the grace period, during which the API still answers new requests on
   * open connections, each with `Connection: close`, before it closes its listener and idle connections.
   */
  SHUTDOWN_ANNOUNCE_MS: z.coerce.number().int().min(0).max(60_000).default(1_000),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  /** Trust X-Forwarded-For from a load balancer when logging client addresses. */
  TRUST_PROXY: boolVar(false),
  /** Seconds a cached API key is still served while Postgres is unreachable (stale-while-error); 0 = off. */
  API_KEY_MAX_STALE_SECONDS: z.coerce.number().int().min(0).default(900),
  // HTTP limits (docs/security.md, "HTTP limits").
  /** Milliseconds a client has to send a request's headers (Node's headersTimeout); 408 and close after. */
  HTTP_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(100).default(30_000),
  /** Milliseconds a client has to send a request's body once its headers arrived; 408 and close after. Responses (streams) are not bounded. */
  HTTP_BODY_TIMEOUT_MS: z.coerce.number().int().min(100).default(30_000),
  /** Open TCP connections per socket peer address (the load balancer's when behind one); further connections are refused. */
  HTTP_MAX_CONNECTIONS_PER_CLIENT: z.coerce.number().int().min(1).default(256),
  /** Shared secret for the dashboard's Auth.js adapter calls (POST /internal/auth/*); unset = routes off. */
  INTERNAL_AUTH_SECRET: z.string().min(32, 'expected at least 32 characters').optional(),
  /** Magic sign-in links one email address may be sent per window (docs/security.md). */
  SIGNIN_LINKS_PER_EMAIL: z.coerce.number().int().min(1).default(5),
  /** Magic sign-in links one client address (IPv6: its /64) may ask for per window, whatever the emails. */
  SIGNIN_LINKS_PER_CLIENT: z.coerce.number().int().min(1).default(30),
  /** Length of the sign-in link windows, in seconds. */
  SIGNIN_LINK_WINDOW_SECONDS: z.coerce.number().int().min(1).default(900),
  // Inference API (/v1): see docs/inference.md.
  /** Largest accepted /v1 request body, in bytes (413 above). */
  INFERENCE_MAX_BODY_BYTES: z.coerce.number().int().min(1024).default(1_048_576),
  /** Deepest nesting of arrays/objects in a /v1 request body (400 above); OpenAI's own requests need about 10. */
  INFERENCE_MAX_JSON_DEPTH: z.coerce.number().int().min(8).max(1_000).default(64),
  /** Prefix of the inference keys in Redis (rate-limit windows, usage stream) and of the sign-in link counters. */
  INFERENCE_REDIS_PREFIX: z.string().min(1).default('cic:'),
  /** Milliseconds to open a TCP connection to a vLLM node. */
  INFERENCE_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(1).default(2_000),
  /** Milliseconds until a node's response headers (for non-streamed requests: the whole answer). */
  INFERENCE_FIRST_BYTE_TIMEOUT_MS: z.coerce.number().int().min(1).default(120_000),
  /** Milliseconds allowed between two chunks of a node's answer. */
  INFERENCE_IDLE_TIMEOUT_MS: z.coerce.number().int().min(1).default(30_000),
  /** Keep-alive connections per node, at most. */
  INFERENCE_UPSTREAM_CONNECTIONS: z.coerce.number().int().min(1).default(256),
  /** Nodes tried per request when one fails before answering. */
  INFERENCE_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(10).default(3),
  /** Completion tokens reserved against the TPM limit when a request sets no max_tokens. */
  INFERENCE_DEFAULT_MAX_TOKENS: z.coerce.number().int().min(1).default(512),
  /** How often the node registry re-reads READY nodes (it also refreshes on nodeStatusChanged). */
  INFERENCE_NODE_REFRESH_MS: z.coerce.number().int().min(50).default(1_000),
  /** Browser origins allowed to call /v1 (CORS), comma-separated (`https://app.example.com,http://localhost:5173`), or `*` for any; empty = none. Credentials are never allowed. */
  INFERENCE_CORS_ORIGINS: z.string().default('').transform((v, ctx) => {
    const origins = v.split(',').map((o) => o.trim()).filter((o) => o !== '');
    for (const o of origins) {
      if (o !== '*' && !/^https?:\/\/[^/\s?#]+$/.test(o)) ctx.addIssue({ code: 'custom', message: `'${o}' is not an origin (scheme://host[:port], no path) or *` });
    }
    return origins;
  }),
  /** Organizations (the busiest) that keep their own `organization` label on the inference metrics; the others are `other`. */
  INFERENCE_METRICS_TOP_ORGANIZATIONS: z.coerce.number().int().min(0).max(1_000).default(20),
  /** Seals and opens node API keys (docs/security.md#nodes-every-hop-to-a-vllm-server-is-authenticated); the job workers need the same value. Required in production, a fixed dev value otherwise. */
  NODE_SECRET_KEY: z.string().min(32, 'expected at least 32 characters').optional(),
  /** Let STATIC node base URLs use link-local / cloud metadata addresses (169.254.0.0/16, fd00:ec2::254). */
  NODE_ALLOW_LINK_LOCAL_URLS: boolVar(false),
  /** Consecutive failures that open a node's circuit breaker. */
  CIRCUIT_FAILURE_THRESHOLD: z.coerce.number().int().min(1).default(5),
  /** Milliseconds an open circuit waits before a half-open probe. */
  CIRCUIT_COOLDOWN_MS: z.coerce.number().int().min(1).default(10_000),
  /** Requests per minute for keys without their own limit. */
  RATE_LIMIT_DEFAULT_RPM: z.coerce.number().int().min(1).default(600),
  /** Tokens (prompt + completion) per minute for keys without their own limit. */
  RATE_LIMIT_DEFAULT_TPM: z.coerce.number().int().min(1).default(1_000_000),
  /** Ceiling on any key's requests per minute in organizations without their own (set by platform admins). */
  RATE_LIMIT_MAX_RPM: z.coerce.number().int().min(1).max(2_147_483_647).default(6_000),
  /** Ceiling on any key's tokens per minute in organizations without their own (set by platform admins). */
  RATE_LIMIT_MAX_TPM: z.coerce.number().int().min(1).max(2_147_483_647).default(10_000_000),
  /** Milliseconds to wait for Redis before the rate limiter fails open. */
  RATE_LIMIT_TIMEOUT_MS: z.coerce.number().int().min(1).default(250),
  /** Run the usage writer (Redis stream → usage_records) in this process. */
  USAGE_WRITER_ENABLED: boolVar(true),
  /** Usage records inserted per batch. */
  USAGE_WRITER_BATCH_SIZE: z.coerce.number().int().min(1).max(5_000).default(500),
  // Durability of usage (docs/operations.md#durability).
  /** Directory of the spool file that takes usage records when neither Redis nor Postgres does; replayed into Postgres at start. One API process per directory. */
  USAGE_SPOOL_DIR: z.string().min(1).default(join(tmpdir(), 'cic-usage-spool')),
  /** Milliseconds an API instance counts as alive after its last heartbeat; then another instance meters its unfinished requests as PARTIAL. */
  ADMISSION_LIVENESS_TTL_MS: z.coerce.number().int().min(300).default(15_000),
  /** Period of the heartbeat and of the checkpoints of relayed tokens, in milliseconds; at most a third of ADMISSION_LIVENESS_TTL_MS. */
  ADMISSION_CHECKPOINT_MS: z.coerce.number().int().min(50).default(1_000),
  /** How often each API instance looks for dead instances' unfinished requests, in milliseconds. */
  ADMISSION_RECOVERY_INTERVAL_MS: z.coerce.number().int().min(50).default(5_000),
  // Billing: see docs/billing.md. Without STRIPE_SECRET_KEY billing runs in "manual" mode (admins grant credits).
  /** Stripe secret key (sk_live_… / sk_test_…); unset = manual mode. */
  STRIPE_SECRET_KEY: z.string().min(1).optional(),
  /** Signing secret of the webhook endpoint POST /webhooks/stripe (whsec_…); unset = webhooks answer 503. */
  STRIPE_WEBHOOK_SECRET: z.string().min(1).optional(),
  /** Another base URL for Stripe's API (a local stand-in in tests); unset = api.stripe.com. */
  STRIPE_API_BASE: urlVar(['http', 'https']).optional(),
  /** Smallest credit purchase, in cents (USD). */
  CHECKOUT_MIN_CENTS: z.coerce.number().int().min(50).default(500),
  /** Largest credit purchase, in cents (USD). */
  CHECKOUT_MAX_CENTS: z.coerce.number().int().min(50).default(100_000),
  /** The dashboard's public URL: Stripe sends buyers back to it after checkout and from the portal. */
  PUBLIC_WEB_URL: urlVar(['http', 'https']).default('http://127.0.0.1:3000'),
  /** Low-balance threshold for billing accounts billing creates, in micro-dollars. */
  LOW_BALANCE_MICROS: z.coerce.bigint().min(0n).default(5_000_000n),
  /** Refuse inference (402) for organizations without credits; false = every organization may spend. */
  BILLING_ENFORCE_CREDITS: boolVar(true),
  // GraphQL (/graphql): see docs/graphql.md.
  /** Secret shared with the dashboard to verify its user tokens (HS256); required in production, a fixed dev value otherwise. */
  SESSION_TOKEN_SECRET: z.string().min(32, 'expected at least 32 characters').optional(),
  /** Deepest selection nesting accepted. */
  GRAPHQL_MAX_DEPTH: z.coerce.number().int().min(1).default(10),
  /** Aliases per operation. */
  GRAPHQL_MAX_ALIASES: z.coerce.number().int().min(1).default(15),
  /** Directives per operation. */
  GRAPHQL_MAX_DIRECTIVES: z.coerce.number().int().min(1).default(10),
  /** Tokens per operation document (1,000 duplicated fields exceed it). */
  GRAPHQL_MAX_TOKENS: z.coerce.number().int().min(100).default(1_000),
  /** graphql-armor cost (objects 2, scalars 1, x1.5 per level); the dashboard's largest query costs about 6,700. */
  GRAPHQL_MAX_COST: z.coerce.number().int().min(100).default(20_000),
  /** Operations per batched HTTP request. */
  GRAPHQL_MAX_BATCH: z.coerce.number().int().min(1).max(100).default(10),
  /** Accept operation text besides persisted operations (integrators write their own queries). */
  GRAPHQL_ALLOW_ARBITRARY_OPERATIONS: boolVar(true),
  /** Most usageUpdated events per second per subscriber (bursts are summed). */
  GRAPHQL_USAGE_EVENTS_PER_SECOND: z.coerce.number().int().min(1).max(50).default(4),
  /** Largest /graphql request body (HTTP and SSE), in bytes; 413 above, read no further. */
  GRAPHQL_MAX_BODY_BYTES: z.coerce.number().int().min(1024).default(1_048_576),
  /** Largest graphql-ws message, in bytes; the socket is closed above. */
  GRAPHQL_MAX_WS_MESSAGE_BYTES: z.coerce.number().int().min(1024).default(65_536),
  /** Introspection and field suggestions for authenticated callers; unset = on outside production, off in production. */
  GRAPHQL_INTROSPECTION: z.enum(['true', 'false', '1', '0'], { error: 'expected true or false' }).optional(),
  /** GraphiQL at GET /graphql (served locally, no CDN); unset = on outside production, off in production. */
  GRAPHQL_GRAPHIQL: z.enum(['true', 'false', '1', '0'], { error: 'expected true or false' }).optional(),
  /** Browser origins allowed to call /graphql cross-origin (comma-separated); unset = the origin of PUBLIC_WEB_URL. */
  GRAPHQL_CORS_ORIGINS: z.string().optional(),
  /** Subscriptions open at once on one graphql-ws socket. */
  GRAPHQL_MAX_SUBSCRIPTIONS_PER_SOCKET: z.coerce.number().int().min(1).default(25),
  /** Subscriptions open at once per API key or user, across API instances (graphql-ws and SSE). */
  GRAPHQL_MAX_SUBSCRIPTIONS_PER_VIEWER: z.coerce.number().int().min(1).default(100),
  /** Subscriptions open at once per organization (all its keys and users), across API instances. */
  GRAPHQL_MAX_SUBSCRIPTIONS_PER_ORGANIZATION: z.coerce.number().int().min(1).default(500),
  /** Operation cost points per API key or user per minute (docs/graphql.md#rate-limits). */
  GRAPHQL_RATE_LIMIT_POINTS_PER_MINUTE: z.coerce.number().int().min(10).default(2_000),
  /** Prefix of GraphQL's Redis keys (rate-limit windows, subscription counters). */
  GRAPHQL_REDIS_PREFIX: z.string().min(1).default('cic:gql:'),
  /** Days an invitation stays open for the invitee to accept (inviteMember, resendInvitation). */
  INVITATION_VALID_DAYS: z.coerce.number().int().min(1).max(90).default(DEFAULT_INVITATION_VALID_DAYS),
  // Sign-up and new organizations (docs/dashboard.md#sign-up-and-first-credits): the defaults until a platform admin saves the settings.
  /** Who may create an account: open, invite_only or allowed_domains (an invitation always lets its email in). */
  SIGNUP_POLICY: z.string().trim().toUpperCase().pipe(z.enum(SIGNUP_POLICIES, { error: 'expected open, invite_only or allowed_domains' })).default('OPEN'),
  /** Comma-separated domains whose addresses may sign up under allowed_domains, e.g. example.com,example.org. */
  SIGNUP_ALLOWED_DOMAINS: z.string().default(''),
  /** Credit granted to each organization created at sign-up, in USD (0 in production unless set; npm start sets 5). */
  NEW_ORGANIZATION_CREDIT_USD: z.coerce.number().min(0).max(1000).default(0),
  /** How users reach the operator (an email address or an https URL), shown where credits cannot be bought. */
  OPERATOR_CONTACT: z.string().trim().min(1).optional(),
  /** BullMQ key prefix of the node-lifecycle queue; the jobs worker must use the same. */
  BULLMQ_PREFIX: z.string().min(1).default('bull'),
}).refine((c) => c.CHECKOUT_MIN_CENTS <= c.CHECKOUT_MAX_CENTS, {
  path: ['CHECKOUT_MAX_CENTS'], message: 'must be at least CHECKOUT_MIN_CENTS',
}).refine((c) => c.ADMISSION_CHECKPOINT_MS * 3 <= c.ADMISSION_LIVENESS_TTL_MS, {
  path: ['ADMISSION_CHECKPOINT_MS'], message: 'must be at most a third of ADMISSION_LIVENESS_TTL_MS',
}).refine((c) => c.RATE_LIMIT_DEFAULT_RPM <= c.RATE_LIMIT_MAX_RPM, {
  path: ['RATE_LIMIT_MAX_RPM'], message: 'must be at least RATE_LIMIT_DEFAULT_RPM',
}).refine((c) => c.RATE_LIMIT_DEFAULT_TPM <= c.RATE_LIMIT_MAX_TPM, {
  path: ['RATE_LIMIT_MAX_TPM'], message: 'must be at least RATE_LIMIT_DEFAULT_TPM',
});

export type ApiConfig = z.infer<typeof apiEnvSchema>;

/** The platform's rate-limit defaults and ceilings, as the key services and the limiter take them. */
export const platformRateLimitsOf = (config: Pick<ApiConfig, 'RATE_LIMIT_DEFAULT_RPM' | 'RATE_LIMIT_DEFAULT_TPM' | 'RATE_LIMIT_MAX_RPM' | 'RATE_LIMIT_MAX_TPM'>): PlatformRateLimits => ({
  defaultRpm: config.RATE_LIMIT_DEFAULT_RPM,
  defaultTpm: config.RATE_LIMIT_DEFAULT_TPM,
  maxRpm: config.RATE_LIMIT_MAX_RPM,
  maxTpm: config.RATE_LIMIT_MAX_TPM,
});

/**
 * The platform settings the environment gives, until a platform admin saves their own (updatePlatformSettings).
 * Domains and contact are validated as the mutation validates them: a bad value stops the API at start.
 */
export function platformSettingsDefaultsOf(config: Pick<ApiConfig, 'SIGNUP_POLICY' | 'SIGNUP_ALLOWED_DOMAINS' | 'NEW_ORGANIZATION_CREDIT_USD' | 'OPERATOR_CONTACT'>): PlatformSettingsValues {
  const parsed = platformSettingsInput.required({ allowedEmailDomains: true }).safeParse({
    allowedEmailDomains: config.SIGNUP_ALLOWED_DOMAINS.split(',').map((d) => d.trim()).filter(Boolean),
    operatorContact: config.OPERATOR_CONTACT ?? null,
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${issue.path[0] === 'operatorContact' ? 'OPERATOR_CONTACT' : 'SIGNUP_ALLOWED_DOMAINS'}: ${issue.message}`);
  }
  if (config.SIGNUP_POLICY === 'ALLOWED_DOMAINS' && parsed.data.allowedEmailDomains.length === 0) {
    throw new Error('SIGNUP_ALLOWED_DOMAINS: give at least one domain when SIGNUP_POLICY=allowed_domains');
  }
  return {
    signupPolicy: config.SIGNUP_POLICY,
    allowedEmailDomains: parsed.data.allowedEmailDomains,
    newOrganizationCreditMicros: BigInt(Math.round(config.NEW_ORGANIZATION_CREDIT_USD * 1_000_000)),
    operatorContact: parsed.data.operatorContact ?? null,
  };
}

export const loadApiConfig = (env: NodeJS.ProcessEnv = process.env): ApiConfig => parseEnv(apiEnvSchema, env);
