import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { AppError } from '../src/errors.ts';
import { signSessionToken, verifySessionToken } from '../src/auth/session-token.ts';

const secret = 'unit-test-session-secret-0123456789abcdef';
const key = new TextEncoder().encode(secret);

async function rejection(token: string): Promise<AppError> {
  try {
    await verifySessionToken({ token, secret });
  } catch (err) {
    return err as AppError;
  }
  throw new Error('token was accepted');
}

describe('session tokens', () => {
  it('round-trips a user id with its expiry', async () => {
    const token = await signSessionToken({ userId: 'usr_1', secret, ttlSeconds: 60 });
    const verified = await verifySessionToken({ token, secret });
    expect(verified.userId).toBe('usr_1');
    expect(verified.expiresAt.getTime()).toBeGreaterThan(Date.now());
  });

  it('refuses lifetimes over 15 minutes when signing', async () => {
    await expect(signSessionToken({ userId: 'usr_1', secret, ttlSeconds: 901 })).rejects.toThrow(RangeError);
  });

  it('refuses expired, foreign-signed, wrong-audience, wrong-issuer, too-long and non-user tokens', async () => {
    const now = Math.floor(Date.now() / 1000);
    const base = () => new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('usr_1').setIssuer('cic-web').setAudience('cic-api');
    expect((await rejection(await base().setIssuedAt(now - 120).setExpirationTime(now - 60).sign(key))).detail).toBe('token_expired');
    const invalid = [
      await base().setIssuedAt().setExpirationTime(now + 60).sign(new TextEncoder().encode('another-secret-that-is-long-enough-000')),
      await base().setAudience('someone-else').setIssuedAt().setExpirationTime(now + 60).sign(key),
      await base().setIssuer('evil').setIssuedAt().setExpirationTime(now + 60).sign(key),
      await base().setIssuedAt(now).setExpirationTime(now + 3600).sign(key),
      await base().setSubject('key_1').setIssuedAt().setExpirationTime(now + 60).sign(key),
      await base().setExpirationTime(now + 60).sign(key),
    ];
    for (const token of invalid) {
      const err = await rejection(token);
      expect(err).toBeInstanceOf(AppError);
      expect(err.code).toBe('UNAUTHENTICATED');
      expect(err.detail).toBe('invalid_token');
    }
  });
});
