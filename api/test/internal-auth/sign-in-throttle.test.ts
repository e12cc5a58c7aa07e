import { createTestDatabase, testRedis, type TestDatabase } from '@cic/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientBucket } from '../../src/internal-auth/sign-in-throttle.ts';
import { startTestApi } from '../helpers/test-api.ts';

const SECRET = 'test-internal-auth-secret-0123456789abcdef';
interface Decision { allowed: boolean; limitedBy: 'email' | 'client' | null; retryAfterSeconds: number }

let db: TestDatabase;
let api: Awaited<ReturnType<typeof startTestApi>>;

beforeAll(async () => {
  db = await createTestDatabase();
  api = await startTestApi({
    databaseUrl: db.url, redisUrl: testRedis().url,
    env: { INTERNAL_AUTH_SECRET: SECRET, SIGNIN_LINKS_PER_EMAIL: '2', SIGNIN_LINKS_PER_CLIENT: '4', SIGNIN_LINK_WINDOW_SECONDS: '600' },
  });
});
afterAll(async () => {
  await api?.stop();
  await db?.drop();
});

async function take(email: string, client: string, secret: string | null = SECRET): Promise<{ status: number; decision: Decision }> {
  const res = await fetch(`${api.url}/internal/auth/throttleSignInLink`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(secret ? { 'x-cic-internal-auth': secret } : {}) },
    body: JSON.stringify({ email, client }),
  });
  const body = (await res.json()) as { result: Decision };
  return { status: res.status, decision: body.result };
}

describe('magic-link throttle (POST /internal/auth/throttleSignInLink)', () => {
  it('allows SIGNIN_LINKS_PER_EMAIL links per email per window, whatever the case of the address', async () => {
    expect((await take('victim@example.com', '192.0.2.1')).decision).toEqual({ allowed: true, limitedBy: null, retryAfterSeconds: 0 });
    expect((await take(' Victim@Example.com', '192.0.2.2')).decision.allowed).toBe(true);
    const refused = (await take('victim@example.com', '192.0.2.3')).decision;
    expect(refused).toMatchObject({ allowed: false, limitedBy: 'email' });
    expect(refused.retryAfterSeconds).toBeGreaterThan(0);
    expect(refused.retryAfterSeconds).toBeLessThanOrEqual(600);
    // Another address from the same clients still gets its links.
    expect((await take('someone-else@example.com', '192.0.2.3')).decision.allowed).toBe(true);
  });

  it('allows SIGNIN_LINKS_PER_CLIENT links per client whatever the emails; refusals are not counted', async () => {
    for (let i = 0; i < 4; i++) expect((await take(`spray-${i}@example.com`, '198.51.100.7')).decision.allowed).toBe(true);
    expect((await take('spray-4@example.com', '198.51.100.7')).decision).toMatchObject({ allowed: false, limitedBy: 'client' });
    // The refused address was not counted against itself: it gets two links from another client.
    expect((await take('spray-4@example.com', '198.51.100.8')).decision.allowed).toBe(true);
    expect((await take('spray-4@example.com', '198.51.100.8')).decision.allowed).toBe(true);
  });

  it('security: one IPv6 /64 is one client, so rotating addresses inside it does not escape the limit', async () => {
    for (let i = 1; i <= 4; i++) expect((await take(`v6-${i}@example.com`, `2001:db8:1:2::${i}`)).decision.allowed).toBe(true);
    expect((await take('v6-5@example.com', '2001:db8:1:2:ffff::9')).decision).toMatchObject({ allowed: false, limitedBy: 'client' });
    expect((await take('v6-5@example.com', '2001:db8:1:3::1')).decision.allowed).toBe(true);
  });

  it('counts allowed and refused requests in cic_signin_link_requests_total', async () => {
    const text = await (await fetch(`${api.url}/metrics`)).text();
    expect(text).toMatch(/cic_signin_link_requests_total\{outcome="allowed"\} \d+/);
    expect(text).toMatch(/cic_signin_link_requests_total\{outcome="limited_by_email"\} [1-9]/);
    expect(text).toMatch(/cic_signin_link_requests_total\{outcome="limited_by_client"\} [1-9]/);
  });

  it('security: refuses callers without the internal secret, and bad input', async () => {
    expect((await take('a@example.com', '192.0.2.50', null)).status).toBe(401);
    expect((await take('a@example.com', '192.0.2.50', 'wrong-secret-wrong-secret-wrong-secret')).status).toBe(401);
    expect((await take('', '192.0.2.50')).status).toBe(400);
    expect((await take('a@example.com', 'x'.repeat(101))).status).toBe(400);
  });
});

describe('clientBucket', () => {
  it('keeps IPv4 as is, unwraps IPv4-mapped IPv6 and groups IPv6 by /64', () => {
    expect(clientBucket('203.0.113.9')).toBe('203.0.113.9');
    expect(clientBucket('::ffff:203.0.113.9')).toBe('203.0.113.9');
    expect(clientBucket('2001:db8:a:b:1:2:3:4')).toBe('2001:db8:a:b::/64');
    expect(clientBucket('2001:DB8:A:B::1')).toBe('2001:db8:a:b::/64');
    expect(clientBucket('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(clientBucket('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(clientBucket('::1')).toBe('0:0:0:0::/64');
  });
});
