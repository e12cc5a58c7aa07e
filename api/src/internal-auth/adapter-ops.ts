import { createHash } from 'node:crypto';
import type { PrismaClient, Session, User } from '@cic/db';
import { z } from 'zod';
import { AppError } from '@cic/core/errors';
import type { PlatformSettingsValues } from '@cic/core/platform/platform-settings';
import { provisionUser } from './provision-user.ts';

/** The user shape Auth.js expects (AdapterUser). */
export interface AdapterUserJson {
  id: string;
  email: string;
  name: string | null;
  image: string | null;
  emailVerified: string | null;
}

const toAdapterUser = (u: User | null): AdapterUserJson | null => (u
  ? { id: u.id, email: u.email, name: u.name, image: u.image, emailVerified: u.emailVerified?.toISOString() ?? null }
  : null);

/**
 * Sessions are stored by the SHA-256 of their token: the cookie holds the token, the database only its
 * digest, so reading the sessions table does not hand out live sessions.
 */
const tokenDigest = (token: string) => createHash('sha256').update(token).digest('hex');

/** The session shape Auth.js expects (AdapterSession), with the caller's token (never the stored digest). */
const toAdapterSession = (s: Session, sessionToken: string) => ({ sessionToken, userId: s.userId, expires: s.expires.toISOString() });

const date = z.coerce.date();
const nullableDate = date.nullish();
const str = z.string().min(1).max(2048);
const optStr = z.string().max(8192).nullish();

const schemas = {
  createUser: z.object({ email: z.email(), name: optStr, image: optStr, emailVerified: nullableDate }),
  getUser: z.object({ id: str }),
  getUserByEmail: z.object({ email: str }),
  getUserByAccount: z.object({ provider: str, providerAccountId: str }),
  updateUser: z.object({ id: str, name: optStr, image: optStr, emailVerified: nullableDate }),
  linkAccount: z.object({
    userId: str, type: str, provider: str, providerAccountId: str,
    refresh_token: optStr, access_token: optStr, expires_at: z.number().int().nullish(), token_type: optStr,
    scope: optStr, id_token: optStr, session_state: optStr,
  }),
  createVerificationToken: z.object({ identifier: str, token: str, expires: date }),
  useVerificationToken: z.object({ identifier: str, token: str }),
  createSession: z.object({ sessionToken: str, userId: str, expires: date }),
  getSessionAndUser: z.object({ sessionToken: str }),
  updateSession: z.object({ sessionToken: str, expires: date.optional() }),
  deleteSession: z.object({ sessionToken: str }),
} as const;

export type AdapterOp = keyof typeof schemas;
export const ADAPTER_OPS = Object.keys(schemas) as AdapterOp[];

/**
 * Runs one Auth.js adapter operation against the database. Auth.js calls these from the dashboard's
 * server (never the browser); unknown fields are dropped so a caller cannot set e.g. isPlatformAdmin.
 */
export async function runAdapterOp(prisma: PrismaClient, platformDefaults: PlatformSettingsValues, op: AdapterOp, body: unknown): Promise<unknown> {
  const parsed = schemas[op].safeParse(body);
  if (!parsed.success) throw new AppError('BAD_REQUEST', `invalid ${op} input: ${parsed.error.issues.map((i) => i.path.join('.') || i.message).join(', ')}`);
  switch (op) {
    case 'createUser': {
      const d = schemas.createUser.parse(body);
      return toAdapterUser(await provisionUser({ prisma, platformDefaults, email: d.email, name: d.name, image: d.image, emailVerified: d.emailVerified }));
    }
    case 'getUser':
      return toAdapterUser(await prisma.user.findUnique({ where: { id: schemas.getUser.parse(body).id } }));
    case 'getUserByEmail':
      return toAdapterUser(await prisma.user.findUnique({ where: { email: schemas.getUserByEmail.parse(body).email.trim().toLowerCase() } }));
    case 'getUserByAccount': {
      const d = schemas.getUserByAccount.parse(body);
      const account = await prisma.account.findUnique({
        where: { provider_providerAccountId: { provider: d.provider, providerAccountId: d.providerAccountId } },
        include: { user: true },
      });
      return toAdapterUser(account?.user ?? null);
    }
    case 'updateUser': {
      const { id, ...data } = schemas.updateUser.parse(body);
      const exists = await prisma.user.findUnique({ where: { id } });
      if (!exists) throw new AppError('NOT_FOUND', `user ${id} not found`);
      const patch = Object.fromEntries(Object.entries(data).filter(([, v]) => v !== undefined));
      return toAdapterUser(await prisma.user.update({ where: { id }, data: patch }));
    }
    case 'linkAccount': {
      const d = schemas.linkAccount.parse(body);
      await prisma.account.upsert({
        where: { provider_providerAccountId: { provider: d.provider, providerAccountId: d.providerAccountId } },
        create: d,
        update: {},
      });
      return null;
    }
    case 'createVerificationToken': {
      const d = schemas.createVerificationToken.parse(body);
      await prisma.verificationToken.create({ data: d });
      return { identifier: d.identifier, token: d.token, expires: d.expires.toISOString() };
    }
    case 'useVerificationToken': {
      const d = schemas.useVerificationToken.parse(body);
      // deleteMany makes a token single-use even under concurrent clicks: only one delete wins.
      const found = await prisma.verificationToken.findUnique({ where: { identifier_token: d } });
      if (!found) return null;
      const { count } = await prisma.verificationToken.deleteMany({ where: d });
      return count === 1 ? { identifier: found.identifier, token: found.token, expires: found.expires.toISOString() } : null;
    }
    case 'createSession': {
      const d = schemas.createSession.parse(body);
      // The user's expired sessions go now: rows of abandoned sign-ins stay bounded without a sweeper.
      await prisma.session.deleteMany({ where: { userId: d.userId, expires: { lt: new Date() } } });
      const session = await prisma.session.create({ data: { sessionToken: tokenDigest(d.sessionToken), userId: d.userId, expires: d.expires } });
      return toAdapterSession(session, d.sessionToken);
    }
    case 'getSessionAndUser': {
      const { sessionToken } = schemas.getSessionAndUser.parse(body);
      const found = await prisma.session.findUnique({ where: { sessionToken: tokenDigest(sessionToken) }, include: { user: true } });
      return found ? { session: toAdapterSession(found, sessionToken), user: toAdapterUser(found.user) } : null;
    }
    case 'updateSession': {
      const { sessionToken, expires } = schemas.updateSession.parse(body);
      const where = { sessionToken: tokenDigest(sessionToken) };
      if (expires) await prisma.session.updateMany({ where, data: { expires } });
      const session = await prisma.session.findUnique({ where });
      return session ? toAdapterSession(session, sessionToken) : null;
    }
    case 'deleteSession': {
      // Sign-out: the row goes, so a copy of the cookie stops working at once.
      await prisma.session.deleteMany({ where: { sessionToken: tokenDigest(schemas.deleteSession.parse(body).sessionToken) } });
      return null;
    }
  }
}
