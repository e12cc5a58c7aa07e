import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * API keys look like `cic_<prefix>_<secret>`: the prefix (12 base62 chars) finds the row, the whole key's
 * sha256 is what we store. Keys carry 190+ bits of randomness, so a fast hash is the right tool (as for
 * Stripe's and GitHub's tokens); the comparison is constant-time.
 */
export const KEY_PATTERN = /^cic_([A-Za-z0-9]{12})_([A-Za-z0-9]{32})$/;

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function base62(length: number): string {
  // Rejection sampling keeps every character uniformly likely.
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += ALPHABET[byte % 62];
    }
  }
  return out;
}

export interface GeneratedKey {
  /** The full key, shown to its owner once. */
  secret: string;
  prefix: string;
  secretHash: string;
}

export const hashKey = (key: string): string => createHash('sha256').update(key).digest('hex');

export function generateKey(): GeneratedKey {
  const prefix = base62(12);
  const secret = `cic_${prefix}_${base62(32)}`;
  return { secret, prefix, secretHash: hashKey(secret) };
}

/** Splits a presented key; null when it is not shaped like one of ours. */
export function parseKey(key: string): { prefix: string } | null {
  const m = KEY_PATTERN.exec(key);
  return m ? { prefix: m[1]! } : null;
}

/** Constant-time check of a presented key against a stored hash. */
export function keyMatchesHash(key: string, storedHash: string): boolean {
  const a = Buffer.from(hashKey(key), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
