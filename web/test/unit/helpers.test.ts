import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { devSecrets } from '../../scripts/dev-secrets.ts';
import { csvCell, csvRows } from '../../src/lib/csv.ts';
import { num, usd } from '../../src/lib/format.ts';
import { bucketStarts } from '../../src/lib/usage-buckets.ts';
import { webEnvSchema } from '../../src/lib/server/env-schema.ts';

const dir = mkdtempSync(join(tmpdir(), 'cic-web-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const S = 'x'.repeat(32);

describe('csv', () => {
  it('quotes separators and defuses spreadsheet formulas', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell(null)).toBe('');
    expect(csvRows([['a', 1], ['b', 2]])).toBe('a,1\nb,2\n');
  });
});

describe('format', () => {
  it('shows micro-dollars as dollars', () => {
    expect(usd('12340000')).toBe('$12.34');
    expect(usd('-1500000')).toBe('-$1.50');
    expect(usd(null)).toBe('—');
    expect(num(1234567)).toBe('1,234,567');
  });
});

describe('dashboard env', () => {
  it('needs the three secrets and names what is wrong', () => {
    const bad = webEnvSchema.safeParse({ AUTH_SECRET: 'short' });
    expect(bad.success).toBe(false);
    const names = bad.error!.issues.map((i) => i.path.join('.'));
    expect(names).toEqual(expect.arrayContaining(['ORIGIN', 'AUTH_SECRET', 'SESSION_TOKEN_SECRET', 'INTERNAL_AUTH_SECRET']));
    const ok = webEnvSchema.parse({ ORIGIN: 'https://cic.example.com/', AUTH_SECRET: S, SESSION_TOKEN_SECRET: S, INTERNAL_AUTH_SECRET: S });
    expect(ok.ORIGIN).toBe('https://cic.example.com');
    expect(ok).toMatchObject({ API_URL: 'http://127.0.0.1:4000', EMAIL_FROM: 'CIC <no-reply@cic.local>', AUTH_SESSION_MAX_AGE_SECONDS: 604800 });
    expect(ok.EMAIL_SERVER).toBeUndefined();
  });

  it('security: the public URL is ORIGIN alone, an origin without path, and Auth.js\'s AUTH_URL is refused', () => {
    const base = { AUTH_SECRET: S, SESSION_TOKEN_SECRET: S, INTERNAL_AUTH_SECRET: S };
    const issues = (env: Record<string, string>) => webEnvSchema.safeParse({ ...base, ...env }).error?.issues.map((i) => i.path.join('.')) ?? [];
    expect(issues({ ORIGIN: 'https://cic.example.com/dashboard' })).toEqual(['ORIGIN']);
    expect(issues({ ORIGIN: 'ftp://cic.example.com' })).toEqual(['ORIGIN']);
    expect(issues({ ORIGIN: 'https://cic.example.com', AUTH_URL: 'https://elsewhere.example' })).toEqual(['AUTH_URL']);
    expect(issues({ ORIGIN: 'https://cic.example.com', ADDRESS_HEADER: 'X-Forwarded-For', XFF_DEPTH: '2' })).toEqual([]);
  });
});

describe('dev secrets for npm start', () => {
  it('generates once, keeps them private, and lets the environment win', () => {
    const file = join(dir, 'secrets.json');
    const first = devSecrets(file, {});
    expect(first.AUTH_SECRET.length).toBeGreaterThanOrEqual(32);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(devSecrets(file, {})).toEqual(first);
    expect(devSecrets(file, { AUTH_SECRET: S }).AUTH_SECRET).toBe(S);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(first);
  });
});

describe('usage buckets', () => {
  it('lists every hour or day of the range, aligned like the API', () => {
    const now = new Date('2026-01-02T03:30:00.000Z');
    const hours = bucketStarts('2026-01-02T00:10:00.000Z', 'HOUR', now);
    expect(hours).toEqual(['2026-01-02T00:00:00.000Z', '2026-01-02T01:00:00.000Z', '2026-01-02T02:00:00.000Z', '2026-01-02T03:00:00.000Z']);
    expect(bucketStarts('2025-12-31T12:00:00.000Z', 'DAY', now)).toEqual(['2025-12-31T00:00:00.000Z', '2026-01-01T00:00:00.000Z', '2026-01-02T00:00:00.000Z']);
  });
});
