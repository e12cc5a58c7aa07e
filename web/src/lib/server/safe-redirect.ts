const hasControlCharacter = (s: string) => Array.from(s).some((c) => c < ' ' || c === '\x7f');

/** Stands in for the dashboard's origin while resolving: only whether a target leaves it matters. */
const PROBE_ORIGIN = 'http://dashboard.invalid';

/**
 * A post-sign-in target as a same-origin path (`/keys?range=7d`), or `fallback` when it could lead
 * anywhere else. Browsers read `/\host`, `/<tab>/host` and `//host` as another host, and a server or
 * proxy that decodes once more turns `/%5Chost` or `/%09/host` into those, so all of them are refused,
 * as are absolute URLs, whitespace, control characters and backslashes, raw or percent-encoded. What
 * passes is returned in the form the URL parser resolved it to.
 */
export function safeRedirectPath(target: unknown, fallback = '/'): string {
  if (typeof target !== 'string' || target.length === 0 || target.length > 2048) return fallback;
  // Printable ASCII only, starting with exactly one slash.
  if (!/^\/(?![/\\])[\x21-\x7e]*$/.test(target) || target.includes('\\')) return fallback;
  let decoded: string;
  try {
    decoded = decodeURIComponent(target);
  } catch {
    return fallback;
  }
  if (/^\/[/\\]/.test(decoded) || decoded.includes('\\') || hasControlCharacter(decoded)) return fallback;
  const url = new URL(target, PROBE_ORIGIN);
  const path = `${url.pathname}${url.search}${url.hash}`;
  // Dot segments can resolve to a leading `//` (`/a/..//host`): check the result, not just the input.
  if (url.origin !== PROBE_ORIGIN || /^\/[/\\]/.test(path)) return fallback;
  return path;
}

/**
 * Auth.js's `redirect` callback: every URL it is about to send the browser to (after sign-in, after
 * sign-out, from a sign-in callback) becomes `origin` + a safe path; anything else goes to `origin`/.
 */
export function sameOriginRedirect(url: string, origin: string): string {
  const path = url === origin || url.startsWith(`${origin}/`) ? url.slice(origin.length) || '/' : url;
  return `${origin}${safeRedirectPath(path)}`;
}
