import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from './support/stack.ts';

// HTTP-level attacks on the built dashboard's sign-in (docs/security.md): where magic links point,
// how many can be asked for, whether sign-out ends a session everywhere, where sign-in redirects.
const PER_EMAIL = 3;
const PER_CLIENT = 30;

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ apiEnv: { SIGNIN_LINKS_PER_EMAIL: String(PER_EMAIL), SIGNIN_LINKS_PER_CLIENT: String(PER_CLIENT) } });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
}, 60_000);

/** Headers of a browser's form post (SvelteKit answers an action in JSON when the client accepts any type). */
const FORM_POST = { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' };

/** Posts the sign-in page's email form (a same-origin post, as the attacker in the report sent it). */
async function askForLink(email: string, { headers = {}, redirectTo = '/' }: { headers?: Record<string, string>; redirectTo?: string } = {}): Promise<string> {
  const res = await fetch(`${stack.webUrl}/signin`, {
    method: 'POST',
    redirect: 'manual',
    headers: { ...FORM_POST, origin: stack.webUrl, ...headers },
    body: new URLSearchParams({ providerId: 'email', email, redirectTo }),
  });
  expect([302, 303]).toContain(res.status);
  return res.headers.get('location')!;
}

/** The same post with a Host header of our choosing (fetch always sends the real one). */
function askForLinkWithHost(email: string, host: string): Promise<number> {
  const body = new URLSearchParams({ providerId: 'email', email, redirectTo: '/' }).toString();
  const target = new URL(stack.webUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: target.hostname, port: target.port, path: '/signin', method: 'POST',
      headers: { ...FORM_POST, host, origin: stack.webUrl, 'content-length': Buffer.byteLength(body) },
    }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const isRefused = (location: string) => new URL(location, stack.webUrl).searchParams.get('error') === 'RateLimited';
/** Auth.js's "check your email" step: the link was minted and sent. */
const isSent = (location: string) => new URL(location, stack.webUrl).pathname === '/auth/verify-request';

/** Signs in over plain HTTP through an emailed link; returns the session cookie's value. */
async function signIn(email: string): Promise<string> {
  await askForLink(email);
  const res = await fetch(await stack.mailbox.magicLink(email), { redirect: 'manual' });
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith('authjs.session-token='));
  if (!cookie) throw new Error(`no session cookie after following the link (status ${res.status})`);
  return cookie.split(';')[0]!.slice('authjs.session-token='.length);
}

const withSession = (value: string) => ({ cookie: `authjs.session-token=${value}` });

let session: string | undefined;
/** One signed-in user for the redirect cases (each sign-in spends one link of this client's budget). */
async function sessionOnce(): Promise<string> {
  session ??= await signIn('redirects@cic.test');
  return session;
}

describe('magic links point at ORIGIN only', () => {
  it('security: X-Forwarded-Host / X-Forwarded-Proto cannot move the link to another host', async () => {
    await askForLink('forwarded@cic.test', { headers: { 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' } });
    const link = await stack.mailbox.magicLink('forwarded@cic.test');
    expect(new URL(link).origin).toBe(stack.webUrl);
  });

  it('security: a forged Host header cannot either', async () => {
    expect([302, 303]).toContain(await askForLinkWithHost('host-header@cic.test', 'evil.example'));
    const link = await stack.mailbox.magicLink('host-header@cic.test');
    expect(new URL(link).origin).toBe(stack.webUrl);
  });
});

describe('sign-out', () => {
  it('security: after sign-out a copy of the session cookie no longer works', async () => {
    const copied = await signIn('copied-cookie@cic.test');
    expect((await fetch(`${stack.webUrl}/api/token`, { headers: withSession(copied) })).status).toBe(200);

    const out = await fetch(`${stack.webUrl}/signout`, {
      method: 'POST', redirect: 'manual',
      headers: { ...FORM_POST, origin: stack.webUrl, ...withSession(copied) },
      body: new URLSearchParams({ redirectTo: '/signin' }),
    });
    expect([302, 303]).toContain(out.status);

    expect((await fetch(`${stack.webUrl}/api/token`, { headers: withSession(copied) })).status).toBe(401);
    const page = await fetch(`${stack.webUrl}/keys`, { headers: withSession(copied), redirect: 'manual' });
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toMatch(/^\/signin/);
  });
});

describe('redirect after sign-in', () => {
  const HOSTILE = ['/%5Cevil.example', '/%09/evil.example', '//evil.example', '/%2F%2Fevil.example', 'https://evil.example/', '/%255Cevil.example', '/a/..//evil.example'];

  it.each(HOSTILE)('security: a signed-in visit to /signin?redirectTo=%s stays on the dashboard', async (raw) => {
    const session = await sessionOnce();
    const res = await fetch(`${stack.webUrl}/signin?redirectTo=${raw}`, { headers: withSession(session), redirect: 'manual' });
    expect(res.status).toBe(303);
    expect(new URL(res.headers.get('location')!, stack.webUrl).origin).toBe(stack.webUrl);
    expect(res.headers.get('location')).toBe('/');
  });

  it('security: a hostile redirectTo posted with the sign-in form becomes the dashboard root', async () => {
    await askForLink('hostile-redirect@cic.test', { redirectTo: '/\\evil.example' });
    const link = await stack.mailbox.magicLink('hostile-redirect@cic.test');
    expect(new URL(link).searchParams.get('callbackUrl')).toBe(`${stack.webUrl}/`);
    const res = await fetch(link, { redirect: 'manual' });
    expect(res.headers.get('location')).toBe(`${stack.webUrl}/`);
  });

  it('a same-origin path survives the round trip through the emailed link', async () => {
    await askForLink('deep-link@cic.test', { redirectTo: '/usage?range=7d' });
    const res = await fetch(await stack.mailbox.magicLink('deep-link@cic.test'), { redirect: 'manual' });
    expect(res.headers.get('location')).toBe(`${stack.webUrl}/usage?range=7d`);
  });
});

describe('magic-link throttle', () => {
  it(`security: ${PER_EMAIL} links per email per window, then a clear refusal; no link is minted for it`, async () => {
    const email = 'flooded@cic.test';
    for (let i = 0; i < PER_EMAIL; i++) expect(isSent(await askForLink(email))).toBe(true);
    const refused = await askForLink(email);
    expect(isRefused(refused)).toBe(true);
    expect(await stack.prisma.verificationToken.count({ where: { identifier: email } })).toBe(PER_EMAIL);
    const page = await (await fetch(new URL(refused, stack.webUrl))).text();
    expect(page).toMatch(/Too many sign-in links were asked for\. Wait \d+ minutes?/);
    // Auth.js's own route is no way around it.
    const direct = await fetch(`${stack.webUrl}/auth/signin/email`, {
      method: 'POST', redirect: 'manual', headers: { ...FORM_POST, origin: stack.webUrl }, body: new URLSearchParams({ email }),
    });
    expect(isRefused(direct.headers.get('location') ?? '')).toBe(true);
    expect(await stack.prisma.verificationToken.count({ where: { identifier: email } })).toBe(PER_EMAIL);
    // The limit is the address's: another address from the same client still gets its link.
    expect(isSent(await askForLink('not-flooded@cic.test'))).toBe(true);
  });

  it('security: the answers are the same whether the account exists (no account oracle)', async () => {
    await stack.prisma.user.create({ data: { email: 'exists@cic.test' } });
    const answers = async (email: string) => {
      const all: string[] = [];
      for (let i = 0; i <= PER_EMAIL; i++) {
        const location = new URL(await askForLink(email), stack.webUrl);
        location.searchParams.delete('retryAfter');
        all.push(location.toString());
      }
      return all;
    };
    const existing = await answers('exists@cic.test');
    expect(await answers('does-not-exist@cic.test')).toEqual(existing);
    expect(existing.slice(0, PER_EMAIL).every(isSent)).toBe(true);
    expect(isRefused(existing.at(-1)!)).toBe(true);
  });

  // Last: it spends what is left of this client's budget.
  it(`security: ${PER_CLIENT} links per client per window whatever the emails; X-Forwarded-For is not believed without a trusted proxy`, async () => {
    const outcomes: boolean[] = [];
    for (let i = 0; i <= PER_CLIENT; i++) {
      outcomes.push(isRefused(await askForLink(`spray-${i}@cic.test`, { headers: { 'x-forwarded-for': `203.0.113.${i + 1}` } })));
    }
    const first = outcomes.indexOf(true);
    expect(first).toBeGreaterThan(-1);
    expect(outcomes.slice(first).every(Boolean)).toBe(true);
  });
});
