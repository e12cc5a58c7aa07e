import { describe, expect, it } from 'vitest';
import { sameOriginRedirect, safeRedirectPath } from '../../src/lib/server/safe-redirect.ts';

const ORIGIN = 'https://cic.example.com';

describe('safeRedirectPath', () => {
  it.each([
    ['/', '/'],
    ['/keys', '/keys'],
    ['/usage?range=7d&by=key', '/usage?range=7d&by=key'],
    ['/nodes/node_abc#events', '/nodes/node_abc#events'],
    ['/usage?name=a%20b', '/usage?name=a%20b'],
    ['/a/../keys', '/keys'],
  ])('keeps the same-origin path %j', (input, expected) => {
    expect(safeRedirectPath(input)).toBe(expected);
  });

  it.each([
    '//evil.example',
    '///evil.example',
    '/\\evil.example',
    '\\\\evil.example',
    '/\t/evil.example',
    '/\n/evil.example',
    '/ /evil.example',
    '/%09/evil.example',
    '/%0a/evil.example',
    '/%5Cevil.example',
    '/%5cevil.example',
    '/%2F/evil.example',
    '/%2f%2fevil.example',
    '/a/..//evil.example',
    '/./\\evil.example',
    '/%E0%A4%A', // not decodable
    'https://evil.example',
    'https://evil.example/keys',
    'http:evil.example',
    '//cic.example.com@evil.example',
    'javascript:alert(1)',
    'data:text/html,hi',
    'evil.example',
    'keys',
    ' /keys',
    '/keys\u2028',
    '/ｅvil',
    '',
    `/${'a'.repeat(2048)}`,
  ])('security: refuses %j', (input) => {
    expect(safeRedirectPath(input)).toBe('/');
  });

  it('refuses what is not a string, and uses the given fallback', () => {
    expect(safeRedirectPath(null)).toBe('/');
    expect(safeRedirectPath(undefined)).toBe('/');
    expect(safeRedirectPath(['/keys'])).toBe('/');
    expect(safeRedirectPath('//evil.example', '/signin')).toBe('/signin');
  });

  it('what it returns always resolves to the same origin', () => {
    for (const input of ['/keys', '/a/..//evil.example', '/./\\evil', '/%2e%2e/%2fevil', '/..%2f..%2fevil']) {
      const out = safeRedirectPath(input);
      expect(new URL(out, ORIGIN).origin).toBe(ORIGIN);
    }
  });
});

describe('sameOriginRedirect (Auth.js redirect callback)', () => {
  it('keeps relative and same-origin targets on the origin', () => {
    expect(sameOriginRedirect('/keys', ORIGIN)).toBe(`${ORIGIN}/keys`);
    expect(sameOriginRedirect(`${ORIGIN}/usage?range=7d`, ORIGIN)).toBe(`${ORIGIN}/usage?range=7d`);
    expect(sameOriginRedirect(ORIGIN, ORIGIN)).toBe(`${ORIGIN}/`);
  });

  it.each([
    'https://evil.example/keys',
    `${ORIGIN}.evil.example/keys`,
    `${ORIGIN}@evil.example/`,
    `${ORIGIN}//evil.example`,
    `${ORIGIN}/\\evil.example`,
    '/\\evil.example',
    '/%09/evil.example',
    'http://cic.example.com/keys',
  ])('security: sends %j to the origin\'s root', (input) => {
    expect(sameOriginRedirect(input, ORIGIN)).toBe(`${ORIGIN}/`);
  });
});
