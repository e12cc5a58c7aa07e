import { errors, jwtVerify, SignJWT } from 'jose';
import { AppError } from '../errors.ts';

/** Who signs dashboard session tokens (the SvelteKit server). */
export const SESSION_TOKEN_ISSUER = 'cic-web';
/** Who accepts them (this API). */
export const SESSION_TOKEN_AUDIENCE = 'cic-api';
/** Longest lifetime the API accepts, in seconds: a leaked token is worth little. */
export const SESSION_TOKEN_MAX_TTL_SECONDS = 900;

const encoder = new TextEncoder();

export interface SignSessionTokenOptions {
  /** The user (usr_…) the token stands for. */
  userId: string;
  /** SESSION_TOKEN_SECRET, shared by the dashboard and the API (at least 32 characters). */
  secret: string;
  /**
   * Lifetime in seconds, at most {@link SESSION_TOKEN_MAX_TTL_SECONDS}.
   * @defaultValue 300
   */
  ttlSeconds?: number;
}

/** Signs a short-lived HS256 JWT the API accepts as `Authorization: Bearer <token>` for this user. */
export async function signSessionToken({ userId, secret, ttlSeconds = 300 }: SignSessionTokenOptions): Promise<string> {
  if (!(ttlSeconds > 0 && ttlSeconds <= SESSION_TOKEN_MAX_TTL_SECONDS)) {
    throw new RangeError(`ttlSeconds must be in (0, ${SESSION_TOKEN_MAX_TTL_SECONDS}]`);
  }
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(userId)
    .setIssuer(SESSION_TOKEN_ISSUER)
    .setAudience(SESSION_TOKEN_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
    .sign(encoder.encode(secret));
}

export interface VerifiedSessionToken {
  userId: string;
  expiresAt: Date;
}

/**
 * Verifies a session token (signature, issuer, audience, expiry, lifetime ≤ 15 min) or throws a 401
 * AppError. The message never says which check failed beyond "expired" vs "invalid".
 */
export async function verifySessionToken({ token, secret }: { token: string; secret: string }): Promise<VerifiedSessionToken> {
  try {
    const { payload } = await jwtVerify(token, encoder.encode(secret), {
      algorithms: ['HS256'],
      issuer: SESSION_TOKEN_ISSUER,
      audience: SESSION_TOKEN_AUDIENCE,
      requiredClaims: ['sub', 'exp', 'iat'],
    });
    const { sub, exp, iat } = payload as { sub: string; exp: number; iat: number };
    // A token minted for longer than the cap is refused even when still valid: the dashboard never does that.
    if (exp - iat > SESSION_TOKEN_MAX_TTL_SECONDS || !sub.startsWith('usr_')) throw new Error('token outside policy');
    return { userId: sub, expiresAt: new Date(exp * 1000) };
  } catch (err) {
    if (err instanceof errors.JWTExpired) throw new AppError('UNAUTHENTICATED', 'The session token has expired; sign in again.', { detail: 'token_expired' });
    throw new AppError('UNAUTHENTICATED', 'The session token is invalid.', { detail: 'invalid_token', cause: err });
  }
}
