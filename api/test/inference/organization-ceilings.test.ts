import OpenAI, { RateLimitError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signSessionToken } from '@cic/core/auth/session-token';
import { ConfigError } from '@cic/core/lib/env';
import type { Simulator } from '@cic/vllm-sim';
import { loadApiConfig } from '../../src/config.ts';
import { createInferenceWorld, type InferenceWorld, MODEL, startSim } from './inference-fixture.ts';

const SECRET = 'organization-ceilings-session-secret-0123456789';

let world: InferenceWorld;
let sim: Simulator;
let api: Awaited<ReturnType<InferenceWorld['startApi']>>;
let adminToken: string;
const messages = [{ role: 'user' as const, content: 'Hi' }];

beforeAll(async () => {
  world = await createInferenceWorld();
  sim = await startSim({ outputTokens: 1 });
  await world.addNode(sim.url);
  const admin = await world.prisma.user.create({ data: { email: `admin-${Date.now()}@example.com`, isPlatformAdmin: true } });
  adminToken = await signSessionToken({ userId: admin.id, secret: SECRET, ttlSeconds: 600 });
  // A generous limiter timeout: these tests count admissions, they do not test failing open.
  api = await world.startApi({ env: { SESSION_TOKEN_SECRET: SECRET, RATE_LIMIT_TIMEOUT_MS: '2000' } });
});
afterAll(async () => {
  await world?.close();
  await sim?.close();
});

/** A platform admin sets the organization's limits through GraphQL, as the dashboard would. */
async function setOrganizationLimits(limits: Record<string, number | null>) {
  const res = await fetch(`${api.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
    body: JSON.stringify({
      query: 'mutation($input: SetOrganizationLimitsInput!) { setOrganizationLimits(input: $input) { id } }',
      variables: { input: { organizationId: world.org.id, ...limits } },
    }),
  });
  const body = (await res.json()) as { errors?: unknown[] };
  expect(body.errors).toBeUndefined();
}

const chat = (client: OpenAI) => client.chat.completions.create({ model: MODEL, messages, max_tokens: 1 }).withResponse();

describe('organization ceilings on /v1', () => {
  it('a key above a lowered ceiling is limited at the ceiling at once (its cached record is evicted), 429 after it', async () => {
    const key = await world.createKey({ rpmLimit: 50, tpmLimit: 100_000 });
    const client = new OpenAI({ apiKey: key.secret, baseURL: api.baseURL, maxRetries: 0 });
    const before = await chat(client);
    expect(before.response.headers.get('x-ratelimit-limit-requests')).toBe('50');

    await setOrganizationLimits({ maxRpm: 3, maxTpm: 5_000 });
    // The key was cached (for 30 s) with the old ceilings: the change must reach it without waiting.
    const second = await chat(client);
    expect(second.response.headers.get('x-ratelimit-limit-requests')).toBe('3');
    expect(second.response.headers.get('x-ratelimit-limit-tokens')).toBe('5000');
    await chat(client);
    const refused = await chat(client).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RateLimitError);
    expect((refused as RateLimitError).message).toContain('limit 3');
    // The key itself is not rewritten: raising the ceiling again gives it back its own limit.
    expect(await world.prisma.apiKey.findUniqueOrThrow({ where: { id: key.id } })).toMatchObject({ rpmLimit: 50 });
  });

  it("keys without their own limit get the organization's default", async () => {
    await setOrganizationLimits({ maxRpm: null, maxTpm: null, defaultRpm: 7, defaultTpm: 9_000 });
    const key = await world.createKey();
    const first = await chat(new OpenAI({ apiKey: key.secret, baseURL: api.baseURL, maxRetries: 0 }));
    expect(first.response.headers.get('x-ratelimit-limit-requests')).toBe('7');
    expect(first.response.headers.get('x-ratelimit-limit-tokens')).toBe('9000');
  });
});

describe('platform settings', () => {
  it('refuses a platform default above the platform ceiling, naming the variable', () => {
    const env = { NODE_ENV: 'test', DATABASE_URL: 'postgresql://x@127.0.0.1/x', REDIS_URL: 'redis://127.0.0.1:6379' };
    expect(() => loadApiConfig({ ...env, RATE_LIMIT_DEFAULT_RPM: '700', RATE_LIMIT_MAX_RPM: '600' })).toThrow(ConfigError);
    expect(() => loadApiConfig({ ...env, RATE_LIMIT_DEFAULT_TPM: '700', RATE_LIMIT_MAX_TPM: '600' })).toThrow(/RATE_LIMIT_MAX_TPM/);
    expect(loadApiConfig(env)).toMatchObject({ RATE_LIMIT_MAX_RPM: 6_000, RATE_LIMIT_MAX_TPM: 10_000_000 });
  });
});
