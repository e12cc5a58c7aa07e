import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import type { Browser, BrowserContext, Page, Response, WebSocket, WebSocketRoute } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clickAnswering, DESKTOP, hiddenTableControls, launchBrowser, MOBILE, seriousA11yViolations } from './support/browser.ts';
import { ADMIN_EMAIL, createSessionCookie, registerStaticNode, startStack, type Stack } from './support/stack.ts';

const SHOTS = new URL('../../test-results/screenshots/', import.meta.url).pathname;
const MEMBER_EMAIL = 'member@oidc.test';

let stack: Stack;
let browser: Browser;
let closeBrowser: () => Promise<void>;
let admin: BrowserContext;
let adminPage: Page;
let apiKey = '';
let nodeId = '';

/** Marks the document; if the page reloads the mark is gone, which proves updates arrived live. */
const markDocument = (page: Page) => page.evaluate(() => ((window as unknown as { __noReload: boolean }).__noReload = true));
const stillSameDocument = (page: Page) => page.evaluate(() => (window as unknown as { __noReload?: boolean }).__noReload === true);

/** What the database and the workers say about a node, for a failure message. */
async function nodeReport(id: string): Promise<string> {
  const node = await stack.prisma.node.findUnique({ where: { id }, include: { events: { orderBy: { createdAt: 'asc' } } } });
  const events = node?.events.map((e) => `  ${e.createdAt.toISOString()} ${e.kind} ${e.message}`).join('\n');
  const jobs = stack.children.jobs.output().split('\n').filter((l) => l.includes(id) || /"level":(40|50)/.test(l)).slice(-30).join('\n');
  return `node ${id} is ${node?.status} in the database; its events:\n${events}\nworker log lines about it:\n${jobs}`;
}

async function signInByEmail(context: BrowserContext, email: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${stack.webUrl}/keys`);
  expect(new URL(page.url()).pathname).toBe('/signin');
  await page.getByLabel('Email').fill(email);
  await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
  await page.waitForURL(/\/signin\/check-email/);
  const link = await stack.mailbox.magicLink(email);
  expect(new URL(link).origin).toBe(stack.webUrl);
  await page.goto(link);
  await page.waitForURL(`${stack.webUrl}/keys`);
  return page;
}

beforeAll(async () => {
  stack = await startStack();
  ({ browser, close: closeBrowser } = await launchBrowser());
  mkdirSync(SHOTS, { recursive: true });
}, 180_000);

afterAll(async () => {
  await closeBrowser?.();
  await stack?.stop();
}, 60_000);

describe('sign-in and session', () => {
  it('signs in through an emailed magic link, once', async () => {
    admin = await browser.newContext({ viewport: DESKTOP });
    adminPage = await signInByEmail(admin, ADMIN_EMAIL);
    await expect.poll(() => adminPage.getByRole('heading', { name: 'API keys' }).isVisible()).toBe(true);
  });

  it('a used magic link does not sign in again', async () => {
    const other = await browser.newContext();
    const page = await other.newPage();
    await page.goto(`${stack.webUrl}/signin`);
    await page.getByLabel('Email').fill('once@cic.test');
    await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
    const link = await stack.mailbox.magicLink('once@cic.test');
    await page.goto(link);
    await page.waitForURL(`${stack.webUrl}/`);
    const fresh = await browser.newContext();
    const replay = await fresh.newPage();
    await replay.goto(link);
    expect(new URL(replay.url()).pathname).toBe('/signin');
    await expect.poll(() => replay.getByRole('alert').textContent()).toMatch(/expired or was already used/);
    await other.close();
    await fresh.close();
  });

  it('security: without a session pages redirect to sign-in and /api/token is 401', async () => {
    const res = await fetch(`${stack.webUrl}/nodes`, { redirect: 'manual' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toMatch(/^\/signin\?redirectTo=%2Fnodes/);
    expect((await fetch(`${stack.webUrl}/api/token`)).status).toBe(401);
  });

  it('security: an expired or unknown session cookie is refused server-side', async () => {
    const user = await stack.prisma.user.findUniqueOrThrow({ where: { email: ADMIN_EMAIL } });
    const cookie = (seconds: number) => createSessionCookie(stack, user.id, new Date(Date.now() + seconds * 1000));
    const open = async (value: string) => fetch(`${stack.webUrl}/api/token`, { headers: { cookie: `authjs.session-token=${value}` } });
    expect((await open(await cookie(60))).status).toBe(200);
    expect((await open(await cookie(-60))).status).toBe(401);
    expect((await open('0'.repeat(64))).status).toBe(401);
  });

  it('security: a form post from another origin is refused (CSRF)', async () => {
    const cookies = await admin.cookies();
    const res = await fetch(`${stack.webUrl}/keys?/create`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://evil.test', cookie: cookies.map((c) => `${c.name}=${c.value}`).join('; ') },
      body: 'name=stolen',
    });
    expect(res.status).toBe(403);
  });

  it('the browser gets a short-lived API token, never a secret', async () => {
    const body = await adminPage.evaluate(async () => (await fetch('/api/token')).json() as Promise<{ token: string; expiresIn: number }>);
    expect(body.expiresIn).toBeLessThanOrEqual(300);
    const payload = JSON.parse(Buffer.from(body.token.split('.')[1]!, 'base64url').toString()) as { exp: number; iat: number; aud: string };
    expect(payload.exp - payload.iat).toBeLessThanOrEqual(300);
    const html = await adminPage.content();
    expect(html).not.toContain('e2e-session-');
    expect(html).not.toContain('e2e-internal-');
  });
});

describe('nodes (admin)', () => {
  it('launches a local node and watches it reach READY without reloading', async () => {
    await adminPage.goto(`${stack.webUrl}/nodes`);
    await adminPage.getByLabel('Provider').selectOption('LOCAL');
    await adminPage.getByRole('button', { name: 'Launch' }).click();
    const status = adminPage.getByRole('status').filter({ hasText: /is (PENDING|PROVISIONING)/ });
    await status.waitFor();
    nodeId = /node_[a-z0-9]+/.exec((await status.textContent()) ?? '')![0];
    await markDocument(adminPage);
    const badge = adminPage.locator(`tr[data-node-id="${nodeId}"] [data-testid="node-status"]`);
    await expect.poll(() => badge.textContent(), { timeout: 90_000, interval: 250 }).toBe('READY');
    expect(await stillSameDocument(adminPage)).toBe(true);
  }, 120_000);

  it('node detail streams the event log of a launching node', async () => {
    await adminPage.goto(`${stack.webUrl}/nodes`);
    await adminPage.getByRole('button', { name: 'Launch' }).click();
    const status = adminPage.getByRole('status').filter({ hasText: /is (PENDING|PROVISIONING)/ });
    await status.waitFor();
    const second = /node_[a-z0-9]+/.exec((await status.textContent()) ?? '')![0];
    await adminPage.goto(`${stack.webUrl}/nodes/${second}`);
    await markDocument(adminPage);
    await expect.poll(() => adminPage.locator('[data-testid="node-status"]').textContent(), { timeout: 60_000, interval: 250 }).toBe('READY');
    await expect.poll(() => adminPage.locator('.log').textContent()).toContain('STARTING → READY');
    expect(await stillSameDocument(adminPage)).toBe(true);
  }, 90_000);
});

describe('live updates', () => {
  it('after the live connection drops, the nodes page catches up on what changed meanwhile', async () => {
    const page = await admin.newPage();
    const sockets: WebSocketRoute[] = [];
    let registered: Awaited<ReturnType<typeof registerStaticNode>> | undefined;
    // Every socket of this page goes through here; before the second one reaches the API, a node is
    // registered, and its event is published while the page is not subscribed.
    await page.routeWebSocket(/\/graphql$/, async (ws) => {
      sockets.push(ws);
      if (sockets.length === 2) registered = await registerStaticNode(stack);
      ws.connectToServer();
    });
    try {
      await page.goto(`${stack.webUrl}/nodes`);
      await page.locator('[data-live-status="live"]').waitFor();
      await markDocument(page);
      await sockets[0]!.close({ code: 1012, reason: 'network blip' }); // the page's side; it reconnects
      await expect.poll(() => registered?.node.id, { timeout: 30_000 }).toBeTruthy();
      await page.locator('[data-live-status="live"]').waitFor({ timeout: 30_000 });
      await page.locator(`tr[data-node-id="${registered!.node.id}"]`).waitFor({ timeout: 15_000 });
      expect(await stillSameDocument(page)).toBe(true);
    } finally {
      await page.close();
      if (registered) {
        await stack.prisma.node.update({ where: { id: registered.node.id }, data: { status: 'TERMINATED', terminatedAt: new Date() } });
        await registered.close();
      }
    }
  }, 60_000);
});

describe('API keys and live usage', () => {
  let staticNode: Awaited<ReturnType<typeof registerStaticNode>> | undefined;
  beforeAll(async () => {
    staticNode = await registerStaticNode(stack);
  });
  afterAll(async () => {
    await staticNode?.close();
  });

  it('creates a key and shows its secret once', async () => {
    await adminPage.goto(`${stack.webUrl}/keys`);
    await adminPage.getByLabel('Name').fill('e2e key');
    await adminPage.getByRole('button', { name: 'Create key' }).click();
    const secret = adminPage.getByTestId('new-key-secret');
    await secret.waitFor();
    apiKey = (await secret.textContent())!.trim();
    expect(apiKey).toMatch(/^cic_[A-Za-z0-9]{12}_[A-Za-z0-9]{32}$/);
    await adminPage.reload();
    expect(await adminPage.content()).not.toContain(apiKey);
    await expect.poll(() => adminPage.locator('tr[data-key-name="e2e key"]').count()).toBe(1);
  });

  it('edits a key\'s limits', async () => {
    const row = adminPage.locator('tr[data-key-name="e2e key"]');
    await row.getByRole('button', { name: 'Edit limits' }).click();
    await row.getByLabel('Requests per minute').fill('600');
    await row.getByRole('button', { name: 'Save' }).click();
    await adminPage.getByText('Limits saved').waitFor();
    await expect.poll(() => row.textContent()).toContain('600 / default');
    await row.getByRole('button', { name: 'Edit limits' }).click();
    await row.getByLabel('Requests per minute').fill('-3');
    await row.getByRole('button', { name: 'Save' }).click();
    await adminPage.getByText('Limits are whole numbers above 0').waitFor();
  });

  it('the key works with the openai SDK and the overview ticker counts it live', async () => {
    await adminPage.goto(`${stack.webUrl}/`);
    await adminPage.locator('[data-live-status="live"]').waitFor({ timeout: 20_000 });
    const before = Number((await adminPage.getByTestId('requests-today').textContent())!.replace(/,/g, ''));
    await markDocument(adminPage);
    const client = new OpenAI({ baseURL: `${stack.apiUrl}/v1`, apiKey, maxRetries: 0 });
    const reply = await client.chat.completions.create({ model: 'cic/sim-echo-1', messages: [{ role: 'user', content: 'hello dashboard' }], max_tokens: 16 });
    expect(reply.choices[0]?.message.content).toBeTruthy();
    await expect.poll(async () => Number((await adminPage.getByTestId('requests-today').textContent())!.replace(/,/g, '')), { timeout: 20_000 }).toBeGreaterThan(before);
    expect(await stillSameDocument(adminPage)).toBe(true);
  }, 60_000);

  it('revoking the key (with confirmation) makes requests fail', async () => {
    await adminPage.goto(`${stack.webUrl}/keys`);
    await clickAnswering(adminPage, adminPage.getByRole('button', { name: 'Revoke e2e key' }), 'dismiss');
    await adminPage.waitForLoadState('networkidle');
    expect((await stack.prisma.apiKey.findFirstOrThrow({ where: { name: 'e2e key' } })).revokedAt).toBeNull();
    await clickAnswering(adminPage, adminPage.getByRole('button', { name: 'Revoke e2e key' }), 'accept');
    await adminPage.getByText('Key revoked').waitFor();
    const client = new OpenAI({ baseURL: `${stack.apiUrl}/v1`, apiKey, maxRetries: 0 });
    await expect.poll(async () => {
      try {
        await client.chat.completions.create({ model: 'cic/sim-echo-1', messages: [{ role: 'user', content: 'x' }], max_tokens: 4 });
        return 'ok';
      } catch (err) {
        return (err as { status?: number }).status;
      }
    }, { timeout: 15_000 }).toBe(401);
  }, 30_000);
});

describe('usage, billing and admin', () => {
  it('exports usage as CSV', async () => {
    const res = await adminPage.request.get(`${stack.webUrl}/usage/export.csv?range=24h&by=key`);
    expect(res.status()).toBe(200);
    expect(res.headers()['content-type']).toMatch(/^text\/csv/);
    const lines = (await res.text()).trim().split('\n');
    expect(lines[0]).toBe('bucket,api_key,model,requests,prompt_tokens,completion_tokens,cost_usd');
    expect(lines.some((l) => l.includes('e2e key'))).toBe(true);
  });

  it('billing explains manual mode when Stripe is not configured', async () => {
    await adminPage.goto(`${stack.webUrl}/billing`);
    await adminPage.getByTestId('manual-credits').waitFor();
    // A platform admin also reads how to grant credits and how to enable Checkout.
    await adminPage.getByText(/Credit adjustment\); setting STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET on the API enables Checkout/).waitFor();
    expect(await adminPage.getByTestId('billing-balance').textContent()).toMatch(/^\$\d/);
  });

  it('a platform admin posts a credit adjustment and the balance follows', async () => {
    const org = await stack.prisma.membership.findFirstOrThrow({ where: { user: { email: ADMIN_EMAIL } } });
    // Balance minus usage: the usage roll-up may charge the earlier test's request at any moment.
    const credited = async () => {
      const [{ balance, usage }] = await stack.prisma.$queryRaw<{ balance: bigint; usage: bigint }[]>`
        SELECT b.balance_micros AS balance, coalesce((SELECT sum(amount_micros) FROM ledger_entries WHERE organization_id = b.organization_id AND type = 'USAGE'), 0)::bigint AS usage
        FROM billing_accounts b WHERE b.organization_id = ${org.organizationId}`;
      return balance - usage;
    };
    const before = await credited();
    await adminPage.goto(`${stack.webUrl}/admin`);
    await adminPage.locator(`#amt-${org.organizationId}`).fill('5');
    await adminPage.locator(`#why-${org.organizationId}`).fill('e2e goodwill credit');
    await adminPage.locator(`#amt-${org.organizationId}`).locator('xpath=..').getByRole('button', { name: 'Post' }).click();
    await adminPage.getByText('Credit adjustment posted').waitFor();
    expect((await credited()) - before).toBe(5_000_000n);
  });
});

describe('members', () => {
  it('signs in through OIDC and, as a member, gets 403 from admin pages', async () => {
    const org = await stack.prisma.membership.findFirstOrThrow({ where: { user: { email: ADMIN_EMAIL } } });
    await adminPage.goto(`${stack.webUrl}/admin`);
    await adminPage.getByLabel('Invite by email').fill(MEMBER_EMAIL);
    await adminPage.getByRole('button', { name: 'Invite' }).click();
    await adminPage.getByText(`Invitation sent to ${MEMBER_EMAIL}`).waitFor();
    const context = await browser.newContext({ viewport: DESKTOP });
    const page = await context.newPage();
    await page.goto(`${stack.webUrl}/signin`);
    await page.getByRole('button', { name: 'Continue with Test OIDC' }).click();
    await page.locator('input[name="login"]').fill(MEMBER_EMAIL);
    await page.locator('input[name="password"]').fill('any-password');
    await page.locator('button[type="submit"]').click();
    await page.waitForURL(`${stack.webUrl}/`);
    // Signing in joins nothing: the invitation waits on the Invitations page until the invitee accepts it.
    expect(await stack.prisma.membership.count({ where: { user: { email: MEMBER_EMAIL }, organizationId: org.organizationId } })).toBe(0);
    await page.getByRole('link', { name: 'Review invitations' }).click();
    await page.getByRole('button', { name: /^Accept the invitation/ }).click();
    await page.getByText(/You joined .* as MEMBER/).waitFor();
    expect(await page.getByRole('link', { name: 'Admin' }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Nodes' }).count()).toBe(0);
    for (const path of ['/admin', '/nodes', `/nodes/${nodeId || 'node_x'}`]) {
      const res = await page.goto(`${stack.webUrl}${path}`);
      expect(res?.status(), path).toBe(403);
      await page.getByRole('heading', { name: 'Not allowed' }).waitFor();
    }
    const membership = await stack.prisma.membership.findFirstOrThrow({ where: { user: { email: MEMBER_EMAIL }, organizationId: org.organizationId } });
    expect(membership).toMatchObject({ role: 'MEMBER' });
    await page.screenshot({ path: join(SHOTS, 'forbidden-desktop.png') });
    await context.close();
  }, 60_000);

  it('before its scripts run, a page cannot submit a destructive action without the confirmation', async () => {
    const noScripts = await browser.newContext({ viewport: DESKTOP, javaScriptEnabled: false, storageState: await admin.storageState() });
    const page = await noScripts.newPage();
    try {
      for (const [path, name] of [['/admin', `Remove ${MEMBER_EMAIL}`], ['/nodes', `Terminate ${nodeId}`]] as const) {
        await page.goto(`${stack.webUrl}${path}`);
        expect(await page.getByRole('button', { name }).isDisabled(), path).toBe(true);
      }
    } finally {
      await noScripts.close();
    }
  });

  it('an owner removes the member after confirming; the last owner stays', async () => {
    const { organizationId } = await stack.prisma.membership.findFirstOrThrow({ where: { user: { email: ADMIN_EMAIL } } });
    const memberships = () => stack.prisma.membership.count({ where: { user: { email: MEMBER_EMAIL }, organizationId } });
    await adminPage.goto(`${stack.webUrl}/admin`);
    const memberRow = adminPage.locator(`tr[data-member-email="${MEMBER_EMAIL}"]`);
    await clickAnswering(adminPage, adminPage.getByRole('button', { name: `Remove ${MEMBER_EMAIL}` }), 'dismiss');
    // A dismissed confirmation sends nothing: no request is left in flight, and the member stays.
    await adminPage.waitForLoadState('networkidle');
    expect(await memberships()).toBe(1);
    expect(await memberRow.count()).toBe(1);
    await clickAnswering(adminPage, adminPage.getByRole('button', { name: `Remove ${MEMBER_EMAIL}` }), 'accept');
    await adminPage.getByText('Member removed.').waitFor();
    await expect.poll(() => memberRow.count()).toBe(0);
    expect(await memberships()).toBe(0);
    expect(await stack.prisma.auditLog.count({ where: { action: 'member.remove' } })).toBe(1);
    await clickAnswering(adminPage, adminPage.getByRole('button', { name: `Remove ${ADMIN_EMAIL}` }), 'accept');
    await adminPage.getByRole('status').filter({ hasText: /owner/i }).waitFor();
    expect(await stack.prisma.membership.count({ where: { user: { email: ADMIN_EMAIL } } })).toBe(1);
  });
});

describe('accessibility and screenshots', () => {
  const pages = () => [
    ['overview', '/'], ['keys', '/keys'], ['usage', '/usage?range=24h&by=model'], ['billing', '/billing'],
    ['nodes', '/nodes'], ['node-detail', `/nodes/${nodeId}`], ['admin', '/admin'], ['models', '/admin/models'], ['invitations', '/invitations'],
  ] as const;

  it('every page has no serious or critical axe violations and fits the screen, at desktop and mobile widths', async () => {
    const problems: string[] = [];
    // Nothing a page loads may fail (a missing favicon used to 404 on every page).
    const failed = (res: Response) => {
      if (res.status() >= 400) problems.push(`${res.status()} for ${res.url()}`);
    };
    adminPage.on('response', failed);
    for (const [name, path] of pages()) {
      for (const [size, viewport] of [['desktop', DESKTOP], ['mobile', MOBILE]] as const) {
        await adminPage.setViewportSize(viewport);
        const res = await adminPage.goto(`${stack.webUrl}${path}`);
        expect(res?.status(), path).toBe(200);
        await adminPage.waitForLoadState('networkidle').catch(() => {});
        await adminPage.screenshot({ path: join(SHOTS, `${name}-${size}.png`), fullPage: true });
        for (const v of await seriousA11yViolations(adminPage)) problems.push(`${path} (${size}): ${v.impact} ${v.id} — ${v.help} @ ${v.nodes.join(', ')}`);
        // Responsive: the page is never wider than the screen, and every table's buttons, links and
        // fields are on screen without a sideways scroll.
        const overflow = await adminPage.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        if (overflow > 1) problems.push(`${path} (${size}): the page is ${overflow}px wider than the screen`);
        for (const hidden of await hiddenTableControls(adminPage)) problems.push(`${path} (${size}): ${hidden}`);
      }
    }
    adminPage.off('response', failed);
    const anon = await browser.newContext({ viewport: DESKTOP });
    const signin = await anon.newPage();
    await signin.goto(`${stack.webUrl}/signin`);
    await signin.screenshot({ path: join(SHOTS, 'signin-desktop.png') });
    for (const v of await seriousA11yViolations(signin)) problems.push(`/signin: ${v.impact} ${v.id} — ${v.help}`);
    await anon.close();
    expect(problems).toEqual([]);
  }, 120_000);

  it('terminates the launched node (with confirmation) and sees it stop without reloading', async () => {
    await adminPage.setViewportSize(DESKTOP);
    // The page subscribes once: reloading its data after the action must not re-subscribe (events
    // published between an unsubscribe and the next subscribe would be lost).
    const subscribes: string[] = [];
    const countSubscribes = (ws: WebSocket) => ws.on('framesent', ({ payload }) => {
      const message = JSON.parse(String(payload)) as { type: string; payload?: { query?: string } };
      if (message.type === 'subscribe') subscribes.push(message.payload?.query ?? '');
    });
    adminPage.on('websocket', countSubscribes);
    await adminPage.goto(`${stack.webUrl}/nodes`);
    await clickAnswering(adminPage, adminPage.getByRole('button', { name: `Terminate ${nodeId}` }), 'accept');
    await adminPage.getByText('Termination requested').waitFor();
    await markDocument(adminPage);
    await adminPage.getByLabel('Show terminated and failed').check();
    const badge = adminPage.locator(`tr[data-node-id="${nodeId}"] [data-testid="node-status"]`);
    await expect.poll(() => badge.textContent(), { timeout: 60_000, interval: 250 }).toBe('TERMINATED')
      .catch(async (err: Error) => { throw new Error(`${err.message}\n${await nodeReport(nodeId)}`); });
    expect(await stillSameDocument(adminPage)).toBe(true);
    adminPage.off('websocket', countSubscribes);
    expect(subscribes).toHaveLength(1);
    expect(subscribes[0]).toMatch(/nodeStatusChanged/);
  }, 90_000);

  it('signs out; pages then ask to sign in again', async () => {
    await adminPage.setViewportSize(DESKTOP);
    await adminPage.goto(`${stack.webUrl}/`);
    // No waiting for the page's own reload: sign-out deletes the session on the server, so a data
    // response that lands afterwards and sets the cookie again brings nothing back.
    await adminPage.getByRole('button', { name: 'Sign out' }).click();
    await adminPage.waitForURL(/\/signin/);
    await adminPage.goto(`${stack.webUrl}/keys`);
    expect(new URL(adminPage.url()).pathname).toBe('/signin');
  });

  it('fails soft when the API is down: a page that says what to do', async () => {
    const user = await stack.prisma.user.findUniqueOrThrow({ where: { email: ADMIN_EMAIL } });
    const value = await createSessionCookie(stack, user.id, new Date(Date.now() + 600_000));
    const context = await browser.newContext({ viewport: DESKTOP });
    await context.addCookies([{ name: 'authjs.session-token', value, url: stack.webUrl }]);
    const page = await context.newPage();
    await stack.children.api.stop();
    const res = await page.goto(`${stack.webUrl}/keys`);
    expect(res?.status()).toBe(503);
    await page.getByText('The API is not reachable').waitFor();
    await page.getByText('Check that the API is running').waitFor();
    await context.close();
  });
});
