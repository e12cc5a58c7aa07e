import { createHash, randomBytes } from 'node:crypto';
import { createPrismaClient, type PrismaClient } from '@cic/db';
import { createTestDatabase, testRedis, type TestDatabase } from '@cic/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi } from '../helpers/test-api.ts';

const SECRET = 'test-internal-auth-secret-0123456789abcdef';
interface SessionJson { sessionToken: string; userId: string; expires: string }
interface Envelope<T> { result: T }

let db: TestDatabase;
let prisma: PrismaClient;
let api: Awaited<ReturnType<typeof startTestApi>>;
let userId: string;

beforeAll(async () => {
  db = await createTestDatabase();
  prisma = createPrismaClient({ databaseUrl: db.url, poolSize: 2 });
  api = await startTestApi({ databaseUrl: db.url, redisUrl: testRedis().url, env: { INTERNAL_AUTH_SECRET: SECRET } });
  userId = (await prisma.user.create({ data: { email: 'sessions@example.com' } })).id;
});
afterAll(async () => {
  await api?.stop();
  await prisma?.$disconnect();
  await db?.drop();
});

async function call<T>(op: string, body: unknown): Promise<{ status: number; body: Envelope<T> }> {
  const res = await fetch(`${api.url}/internal/auth/${op}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-cic-internal-auth': SECRET },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Envelope<T> };
}

const newToken = () => randomBytes(32).toString('hex');
const inMinutes = (m: number) => new Date(Date.now() + m * 60_000).toISOString();

describe('dashboard sessions (Auth.js database sessions over /internal/auth)', () => {
  it('creates a session, finds it with its user, extends it and deletes it (sign-out)', async () => {
    const token = newToken();
    const created = await call<SessionJson>('createSession', { sessionToken: token, userId, expires: inMinutes(60) });
    expect(created.status).toBe(200);
    expect(created.body.result).toMatchObject({ sessionToken: token, userId });

    const found = await call<{ session: SessionJson; user: { id: string; email: string } } | null>('getSessionAndUser', { sessionToken: token });
    expect(found.body.result?.session.sessionToken).toBe(token);
    expect(found.body.result?.user).toMatchObject({ id: userId, email: 'sessions@example.com' });

    const later = inMinutes(120);
    const updated = await call<SessionJson | null>('updateSession', { sessionToken: token, expires: later });
    expect(updated.body.result?.expires).toBe(later);

    expect((await call<null>('deleteSession', { sessionToken: token })).status).toBe(200);
    expect((await call<null>('getSessionAndUser', { sessionToken: token })).body.result).toBeNull();
    expect((await call<null>('updateSession', { sessionToken: token, expires: later })).body.result).toBeNull();
  });

  it('security: the database holds a digest of the token, never the token, and the digest is not a session', async () => {
    const token = newToken();
    await call('createSession', { sessionToken: token, userId, expires: inMinutes(60) });
    const digest = createHash('sha256').update(token).digest('hex');
    const row = await prisma.session.findUniqueOrThrow({ where: { sessionToken: digest } });
    expect(row.userId).toBe(userId);
    expect(await prisma.session.findUnique({ where: { sessionToken: token } })).toBeNull();
    expect((await call<null>('getSessionAndUser', { sessionToken: digest })).body.result).toBeNull();
  });

  it('a new session of a user removes that user\'s expired ones', async () => {
    const stale = newToken();
    await call('createSession', { sessionToken: stale, userId, expires: inMinutes(-5) });
    await call('createSession', { sessionToken: newToken(), userId, expires: inMinutes(60) });
    const digest = createHash('sha256').update(stale).digest('hex');
    expect(await prisma.session.findUnique({ where: { sessionToken: digest } })).toBeNull();
  });

  it('rejects bad input', async () => {
    expect((await call('createSession', { sessionToken: '', userId, expires: inMinutes(1) })).status).toBe(400);
    expect((await call('createSession', { sessionToken: newToken(), userId, expires: 'soon' })).status).toBe(400);
    expect((await call('getSessionAndUser', {})).status).toBe(400);
  });
});
