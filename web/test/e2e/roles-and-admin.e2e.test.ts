import { generateKey } from '@cic/core/api-keys/key-format';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clickAnswering, DESKTOP, hiddenTableControls, launchBrowser, MOBILE, seriousA11yViolations } from './support/browser.ts';
import { signedInContext } from './support/signed-in.ts';
import { ADMIN_EMAIL, startStack, type Stack } from './support/stack.ts';

/**
 * What each role sees (issue 15 item 3), the Admin page's invitations and audit log and the 404 page
 * (item 6), and the polish of item 7: favicon, snippets, chart axis, ledger.
 */
let stack: Stack;
let browser: Browser;
let closeBrowser: () => Promise<void>;
let admin: BrowserContext;
let orgId = '';
const MEMBER = 'plain-member@roles.test';
const LONER = 'removed@roles.test';

/** Posts a form action the way the page's enhanced form does, and returns the answer's text. */
const postAction = (page: Page, path: string, fields: Record<string, string>) => page.evaluate(async ({ path, fields }) => {
  const body = new FormData();
  for (const [k, v] of Object.entries(fields)) body.set(k, v);
  const res = await fetch(path, { method: 'POST', body, headers: { 'x-sveltekit-action': 'true', accept: 'application/json' } });
  return res.text();
}, { path, fields });

beforeAll(async () => {
  stack = await startStack();
  ({ browser, close: closeBrowser } = await launchBrowser());
  const owner = await stack.prisma.user.findUniqueOrThrow({ where: { email: ADMIN_EMAIL }, include: { memberships: true } });
  orgId = owner.memberships[0]!.organizationId;
  await stack.prisma.user.update({ where: { id: owner.id }, data: { name: 'Ada Admin' } });
  const member = await stack.prisma.user.create({ data: { email: MEMBER } });
  await stack.prisma.membership.create({ data: { userId: member.id, organizationId: orgId, role: 'MEMBER' } });
  await stack.prisma.user.create({ data: { email: LONER } });
  const k = generateKey();
  await stack.prisma.apiKey.create({ data: { organizationId: orgId, name: 'shared key', prefix: k.prefix, secretHash: k.secretHash } });
  admin = await signedInContext(browser, stack, ADMIN_EMAIL);
}, 180_000);

afterAll(async () => {
  await closeBrowser?.();
  await stack?.stop();
}, 60_000);

describe('the UI follows the role', () => {
  it('a member sees keys and billing read-only, and a forced action gets a plain sentence', async () => {
    const context = await signedInContext(browser, stack, MEMBER);
    const page = await context.newPage();
    try {
      await page.goto(`${stack.webUrl}/keys`);
      await page.locator('tr[data-key-name="shared key"]').waitFor();
      expect(await page.getByRole('button', { name: 'Create key' }).count()).toBe(0);
      expect(await page.getByRole('button', { name: /Edit limits|Revoke/ }).count()).toBe(0);
      expect(await page.getByTestId('keys-read-only').textContent()).toMatch(/Only owners and admins .* your role is MEMBER/);
      await page.goto(`${stack.webUrl}/billing`);
      await page.getByText(/Owners and admins of .* buy credits; your role is MEMBER/).waitFor();
      expect(await page.getByRole('button', { name: /Pay with Stripe/ }).count()).toBe(0);
      await page.goto(`${stack.webUrl}/`);
      await page.getByText('Ask an owner or admin of your organization for a key').waitFor();

      // The API still refuses what the page no longer offers; the page says so in a sentence.
      await page.goto(`${stack.webUrl}/keys`);
      const answer = await postAction(page, '/keys?/create', { name: 'sneaky' });
      expect(answer).toContain('Your role in this organization does not allow that.');
      expect(answer).not.toMatch(/Not authorized|Mutation\.|createApiKey/);
      expect(await stack.prisma.apiKey.count({ where: { name: 'sneaky' } })).toBe(0);
    } finally {
      await context.close();
    }
  });

  it('a user in no organization gets no create-key form, and the action explains why', async () => {
    const context = await signedInContext(browser, stack, LONER);
    const page = await context.newPage();
    try {
      await page.goto(`${stack.webUrl}/keys`);
      await page.getByTestId('no-organization').waitFor();
      expect(await page.getByRole('button', { name: 'Create key' }).count()).toBe(0);
      expect(await postAction(page, '/keys?/create', { name: 'nowhere' })).toContain('You are not a member of any organization');
    } finally {
      await context.close();
    }
  });
});

describe('admin', () => {
  it('lists pending invitations; resend mails again, cancel (after confirming) takes it back', async () => {
    const page = await admin.newPage();
    const invitee = 'pending@roles.test';
    await page.goto(`${stack.webUrl}/admin`);
    await page.getByLabel('Invite by email').fill(invitee);
    await page.getByRole('button', { name: 'Invite', exact: true }).click();
    await page.getByText(`Invitation sent to ${invitee}`).waitFor();
    const row = page.locator(`tr[data-invitation-email="${invitee}"]`);
    await expect.poll(() => row.textContent()).toContain('PENDING');
    // Every table's controls (members, invitations, organizations, prices) are on screen at both widths.
    for (const viewport of [MOBILE, DESKTOP]) {
      await page.setViewportSize(viewport);
      expect(await hiddenTableControls(page), `${viewport.width} px`).toEqual([]);
    }
    await expect.poll(() => stack.mailbox.received(invitee)).toBe(1);
    await page.getByRole('button', { name: `Resend the invitation to ${invitee}` }).click();
    await expect.poll(() => stack.mailbox.received(invitee)).toBe(2);
    await page.getByRole('status').filter({ hasText: `Invitation sent to ${invitee}` }).waitFor();
    await clickAnswering(page, page.getByRole('button', { name: `Cancel the invitation to ${invitee}` }), 'dismiss');
    await page.waitForLoadState('networkidle');
    expect(await stack.prisma.invitation.count({ where: { email: invitee } })).toBe(1);
    await clickAnswering(page, page.getByRole('button', { name: `Cancel the invitation to ${invitee}` }), 'accept');
    await page.getByText(`Invitation to ${invitee} cancelled`).waitFor();
    await expect.poll(() => row.count()).toBe(0);
    expect(await stack.prisma.invitation.count({ where: { email: invitee } })).toBe(0);
    await page.close();
  });

  it('the audit log names people and filters by them', async () => {
    const page = await admin.newPage();
    await page.goto(`${stack.webUrl}/admin`);
    const invite = page.locator('tr[data-audit-action="member.invite"]').first();
    expect(await invite.getByTestId('audit-actor').textContent()).toBe(`Ada Admin (${ADMIN_EMAIL})`);
    await page.getByLabel('Person (email)').fill(MEMBER.toUpperCase());
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.getByText('No entries match.').waitFor();
    await page.getByLabel('Person (email)').fill(ADMIN_EMAIL);
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(new RegExp(`person=${encodeURIComponent(ADMIN_EMAIL)}`));
    const actors = await page.getByTestId('audit-actor').allTextContents();
    expect(actors.length).toBeGreaterThan(0);
    expect(new Set(actors)).toEqual(new Set([`Ada Admin (${ADMIN_EMAIL})`]));
    await page.close();
  });

  it('an unknown address is a 404 that keeps the navigation, clean for axe at both widths', async () => {
    const page = await admin.newPage();
    for (const viewport of [DESKTOP, MOBILE]) {
      await page.setViewportSize(viewport);
      const res = await page.goto(`${stack.webUrl}/no/such/page`);
      expect(res?.status()).toBe(404);
      await page.getByRole('heading', { name: 'Not found' }).waitFor();
      expect(await page.getByText('There is no page at /no/such/page.').count()).toBe(1);
      expect(await page.locator('nav#nav a[href="/keys"]').count()).toBe(1);
      expect(await seriousA11yViolations(page)).toEqual([]);
    }
    await page.close();
  });
});

describe('polish', () => {
  it('pages load without a failed request: the favicon is there', async () => {
    const page = await admin.newPage();
    const failed: string[] = [];
    page.on('response', (r) => {
      if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`);
    });
    await page.goto(`${stack.webUrl}/`);
    const icon = await page.locator('link[rel="icon"]').getAttribute('href');
    expect((await page.request.get(new URL(icon!, page.url()).href)).status()).toBe(200);
    await page.goto(`${stack.webUrl}/signin`);
    expect(failed).toEqual([]);
    await page.close();
  });

  it('the snippets are complete and, on a phone, wrap without cutting the URL', async () => {
    const page = await admin.newPage();
    await page.setViewportSize(MOBILE);
    await page.goto(`${stack.webUrl}/`);
    const python = (await page.getByLabel('OpenAI SDK (Python) example').textContent())!;
    expect(python.startsWith('import os\n')).toBe(true);
    expect(python).toContain('os.environ["CIC_API_KEY"]');
    const url = `${stack.apiUrl}/v1`;
    for (const label of ['curl example', 'OpenAI SDK (Python) example']) {
      // The URL's text is laid out on one line (one client rect per line it spans).
      const lines = await page.getByLabel(label).evaluate((pre, url) => {
        const text = pre.firstChild!;
        const start = text.textContent!.indexOf(url);
        const range = document.createRange();
        range.setStart(text, start);
        range.setEnd(text, start + url.length);
        return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
      }, url);
      expect(lines, label).toBe(1);
    }
    expect(await page.getByRole('button', { name: 'Copy curl example' }).count()).toBe(1);
    expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(1);
    await page.close();
  });

  it('the 7-day usage chart labels days, readable and apart', async () => {
    const key = await stack.prisma.apiKey.findFirstOrThrow({ where: { organizationId: orgId } });
    const hour = new Date();
    hour.setUTCMinutes(0, 0, 0);
    for (let h = 1; h <= 150; h += 7) {
      await stack.prisma.usageHourly.create({ data: { organizationId: orgId, apiKeyId: key.id, modelName: 'cic/sim-echo-1', hour: new Date(hour.getTime() - h * 3_600_000), requests: h, promptTokens: 10n * BigInt(h), completionTokens: 5n, costMicros: 40n } });
    }
    const page = await admin.newPage();
    for (const viewport of [DESKTOP, MOBILE]) {
      await page.setViewportSize(viewport);
      await page.goto(`${stack.webUrl}/usage?range=7d`);
      const ticks = page.locator('figure').first().locator('.lc-axis-tick-label');
      await expect.poll(() => ticks.count()).toBeGreaterThan(1);
      const labels = await ticks.evaluateAll((els) => els.map((e) => ({ text: e.textContent ?? '', box: e.getBoundingClientRect().toJSON() as DOMRect })));
      const xLabels = labels.filter((l) => /^\d{1,2} [A-Z][a-z]{2}$/.test(l.text));
      expect(xLabels.length, JSON.stringify(labels.map((l) => l.text))).toBeGreaterThan(1);
      expect(new Set(xLabels.map((l) => l.text)).size).toBe(xLabels.length);
      const sorted = xLabels.map((l) => l.box).sort((a, b) => a.left - b.left);
      for (let i = 1; i < sorted.length; i++) expect(sorted[i]!.left, 'labels overlap').toBeGreaterThan(sorted[i - 1]!.right);
    }
    await page.close();
  });

  it('the ledger folds a day of tiny usage charges, shows no ISO text, and unfolds on request', async () => {
    // Yesterday's hours: nothing else in the ledger was posted between them.
    const day = new Date(Date.now() - 86_400_000);
    day.setUTCHours(0, 0, 0, 0);
    for (let h = 1; h <= 3; h++) {
      const at = new Date(day.getTime() + h * 3_600_000);
      const iso = at.toISOString().slice(0, 19);
      await stack.prisma.ledgerEntry.create({ data: { organizationId: orgId, type: 'USAGE', amountMicros: -3n * BigInt(h), sourceId: `e2e-usage-${h}`, description: `Usage of cic/sim-echo-1, ${iso}Z hour`, createdAt: new Date(at.getTime() + 3_600_000) } });
    }
    const page = await admin.newPage();
    await page.goto(`${stack.webUrl}/billing`);
    const usageRows = page.locator('tr[data-ledger-type="USAGE"]');
    await expect.poll(() => usageRows.count()).toBe(1);
    expect(await usageRows.textContent()).toMatch(/Usage, 3 hourly charges on .*-\$0\.000018/);
    const ledger = (await page.getByRole('region', { name: 'Ledger table' }).textContent())!;
    expect(ledger).not.toMatch(/\d{4}-\d\d-\d\dT\d\d/);
    expect(ledger).not.toMatch(/\$0\.00(?!\d)/);
    await page.getByLabel('Show each usage hour').check();
    await expect.poll(() => usageRows.count()).toBe(3);
    expect(await usageRows.allTextContents()).toEqual(expect.arrayContaining([expect.stringMatching(/cic\/sim-echo-1, 01:00–02:00 UTC/)]));
    await page.close();
  });
});
