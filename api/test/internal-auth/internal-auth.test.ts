import { createPrismaClient, type PrismaClient } from '@cic/db';
import { createTestDatabase, testRedis, type TestDatabase } from '@cic/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi } from '../helpers/test-api.ts';

const SECRET = 'test-internal-auth-secret-0123456789abcdef';
interface UserJson { id: string; email: string; name: string | null; emailVerified: string | null }
interface Envelope<T> { result: T }

let db: TestDatabase;
let prisma: PrismaClient;
let api: Awaited<ReturnType<typeof startTestApi>>;

beforeAll(async () => {
  db = await createTestDatabase();
  prisma = createPrismaClient({ databaseUrl: db.url, poolSize: 2 });
  api = await startTestApi({ databaseUrl: db.url, redisUrl: testRedis().url, env: { INTERNAL_AUTH_SECRET: SECRET } });
});
afterAll(async () => {
  await api?.stop();
  await prisma?.$disconnect();
  await db?.drop();
});

async function call<T>(op: string, body: unknown, secret: string | null = SECRET): Promise<{ status: number; body: T }> {
  const res = await fetch(`${api.url}/internal/auth/${op}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(secret ? { 'x-cic-internal-auth': secret } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as T };
}

describe('internal auth adapter routes', () => {
  it('createUser gives a new user an organization of their own as OWNER, with a billing account', async () => {
    const { status, body } = await call<Envelope<UserJson>>('createUser', { email: 'Ada@Example.com', name: 'Ada', emailVerified: '2026-01-01T00:00:00.000Z' });
    expect(status).toBe(200);
    expect(body.result).toMatchObject({ email: 'ada@example.com', name: 'Ada', emailVerified: '2026-01-01T00:00:00.000Z' });
    const memberships = await prisma.membership.findMany({ where: { userId: body.result.id }, include: { organization: { include: { billingAccount: true } } } });
    expect(memberships).toHaveLength(1);
    expect(memberships[0]!.role).toBe('OWNER');
    expect(memberships[0]!.organization.billingAccount).not.toBeNull();
  });

  it('createUser with a pending invitation still gets an organization of their own; the invitation stays pending', async () => {
    const org = await prisma.organization.create({ data: { name: 'Acme', slug: 'acme-invite' } });
    await prisma.invitation.create({ data: { organizationId: org.id, email: 'bob@example.com', role: 'ADMIN', expiresAt: new Date(Date.now() + 86_400_000) } });
    const { body } = await call<Envelope<UserJson>>('createUser', { email: 'Bob@Example.com' });
    const memberships = await prisma.membership.findMany({ where: { userId: body.result.id } });
    expect(memberships).toEqual([expect.objectContaining({ role: 'OWNER' })]);
    expect(memberships[0]!.organizationId).not.toBe(org.id);
    const inv = await prisma.invitation.findFirstOrThrow({ where: { email: 'bob@example.com' } });
    expect(inv).toMatchObject({ acceptedAt: null, declinedAt: null });
    expect(await prisma.membership.count({ where: { organizationId: org.id } })).toBe(0);
  });

  it('looks users up by id, email and linked account; updates them', async () => {
    const { body: created } = await call<Envelope<UserJson>>('createUser', { email: 'carol@example.com' });
    const id = created.result.id;
    expect((await call<Envelope<UserJson>>('getUser', { id })).body.result.email).toBe('carol@example.com');
    expect((await call<Envelope<UserJson>>('getUserByEmail', { email: 'CAROL@example.com' })).body.result.id).toBe(id);
    expect((await call<Envelope<null>>('getUser', { id: 'usr_missing' })).body.result).toBeNull();
    expect((await call<Envelope<null>>('getUserByAccount', { provider: 'oidc', providerAccountId: 'sub-1' })).body.result).toBeNull();
    await call('linkAccount', { userId: id, type: 'oidc', provider: 'oidc', providerAccountId: 'sub-1', access_token: 'at', expires_at: 123 });
    expect((await call<Envelope<UserJson>>('getUserByAccount', { provider: 'oidc', providerAccountId: 'sub-1' })).body.result.id).toBe(id);
    const updated = await call<Envelope<UserJson>>('updateUser', { id, name: 'Carol', emailVerified: '2026-02-02T00:00:00.000Z' });
    expect(updated.body.result).toMatchObject({ name: 'Carol', emailVerified: '2026-02-02T00:00:00.000Z' });
    expect((await call('updateUser', { id: 'usr_missing', name: 'x' })).status).toBe(404);
  });

  it('verification tokens are single-use', async () => {
    const expires = new Date(Date.now() + 600_000).toISOString();
    expect((await call('createVerificationToken', { identifier: 'dan@example.com', token: 'hashed-token', expires })).status).toBe(200);
    const first = await call<Envelope<{ token: string } | null>>('useVerificationToken', { identifier: 'dan@example.com', token: 'hashed-token' });
    expect(first.body.result?.token).toBe('hashed-token');
    const second = await call<Envelope<null>>('useVerificationToken', { identifier: 'dan@example.com', token: 'hashed-token' });
    expect(second.body.result).toBeNull();
  });

  it('rejects bad input and unknown operations', async () => {
    expect((await call('createUser', { email: 'not-an-email' })).status).toBe(400);
    expect((await call('dropTables', {})).status).toBe(404);
  });

  it('security: no or wrong secret is 401, and callers cannot smuggle isPlatformAdmin', async () => {
    expect((await call('getUserByEmail', { email: 'ada@example.com' }, null)).status).toBe(401);
    expect((await call('getUserByEmail', { email: 'ada@example.com' }, 'wrong-secret-wrong-secret-wrong-secret')).status).toBe(401);
    const { body } = await call<Envelope<UserJson>>('createUser', { email: 'eve@example.com', isPlatformAdmin: true });
    const user = await prisma.user.findUniqueOrThrow({ where: { id: body.result.id } });
    expect(user.isPlatformAdmin).toBe(false);
  });

  it('the routes do not exist when INTERNAL_AUTH_SECRET is unset', async () => {
    const off = await startTestApi({ databaseUrl: db.url, redisUrl: testRedis().url });
    try {
      const res = await fetch(`${off.url}/internal/auth/getUser`, { method: 'POST', body: '{}' });
      expect(res.status).toBe(404);
    } finally {
      await off.stop();
    }
  });
});
