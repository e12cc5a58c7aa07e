// The keys page in Chromium against the whole stack: an admin creates a key with scopes, an expiry, a daily
// budget and one allowed model; the openai SDK spends it and gets the 429 insufficient_quota, the page shows
// the key's spend today and this month and the default limits in numbers; the inline editor changes budgets
// and models, Escape cancels it and focus returns to its Edit button; rotation shows the new secret once
// (Copy named for it); past 50 keys the list pages; a member sees it all but cannot change anything.
import OpenAI from 'openai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clickAnswering, DESKTOP, hiddenTableControls, launchBrowser, MOBILE, seriousA11yViolations } from './support/browser.ts';
import { signedInContext } from './support/signed-in.ts';
import { ADMIN_EMAIL, registerStaticNode, startStack, type Stack } from './support/stack.ts';

const MODEL = 'cic/sim-echo-1';
const MEMBER_EMAIL = 'keys-member@cic.test';
let stack: Stack;
let browser: Browser;
let closeBrowser: () => Promise<void>;
let admin: BrowserContext;
let page: Page;
let node: Awaited<ReturnType<typeof registerStaticNode>> | undefined;
let secret = '';

const row = () => page.locator('tr[data-key-name="budgeted"]');

beforeAll(async () => {
  stack = await startStack();
  ({ browser, close: closeBrowser } = await launchBrowser());
  node = await registerStaticNode(stack);
  // A second model the organization may call, so the allowed-models list has something to leave out.
  await stack.prisma.servedModel.create({ data: { name: 'e2e/other-model' } });
  const org = await stack.prisma.organization.findFirstOrThrow({ where: { memberships: { some: { user: { email: ADMIN_EMAIL } } } } });
  await stack.prisma.user.create({ data: { email: MEMBER_EMAIL, memberships: { create: { organizationId: org.id, role: 'MEMBER' } } } });
  admin = await signedInContext(browser, stack, ADMIN_EMAIL);
  page = await admin.newPage();
}, 180_000);

afterAll(async () => {
  await node?.close();
  await closeBrowser?.();
  await stack?.stop();
}, 60_000);

describe('keys page: spend controls', () => {
  it('creates a key with a daily budget and one allowed model', async () => {
    await page.goto(`${stack.webUrl}/keys`);
    const create = page.locator('form[action="?/create"]');
    await create.getByLabel('Name', { exact: true }).fill('budgeted');
    await create.getByLabel('Daily budget (USD)').fill('-1');
    await create.getByRole('button', { name: 'Create key' }).click();
    await page.getByText('Budgets are amounts in US dollars').waitFor();
    await create.getByLabel('Name', { exact: true }).fill('budgeted');
    await create.getByLabel('Daily budget (USD)').fill('0.000001');
    await create.getByLabel(MODEL, { exact: true }).check();
    await create.getByLabel(/graphql/).check();
    await create.getByLabel('Expires on (UTC, optional)').fill('2099-12-31');
    await create.getByRole('button', { name: 'Create key' }).click();
    await page.getByTestId('new-key-secret').waitFor();
    secret = (await page.getByTestId('new-key-secret').textContent())!.trim();
    await page.reload();
    await expect.poll(() => row().getByTestId('key-budgets').textContent()).toContain('a day');
    expect(await row().getByTestId('key-models').textContent()).toBe(MODEL);
    expect(await row().getByTestId('key-scopes').textContent()).toBe('inference, graphql');
    expect(await row().getByTestId('key-expiry').textContent()).toMatch(/^expires /);
    // The platform's defaults in numbers, not "default".
    expect(await row().textContent()).toContain('default (600) / default (1,000,000)');
    expect(await stack.prisma.apiKey.findFirstOrThrow({ where: { name: 'budgeted' } })).toMatchObject({
      dailyBudgetMicros: 1n, allowedModels: [MODEL], scopes: ['inference', 'graphql'], expiresAt: new Date('2099-12-31T23:59:59.999Z'),
    });
    expect(await seriousA11yViolations(page)).toEqual([]);
  });

  it('the key spends its budget, then gets 429 insufficient_quota; the page shows what it spent', async () => {
    const client = new OpenAI({ baseURL: `${stack.apiUrl}/v1`, apiKey: secret, maxRetries: 0 });
    const chat = () => client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'spend a little' }], max_tokens: 8 });
    await expect.poll(() => chat().then(() => 'ok', (e: { status?: number }) => e.status), { timeout: 20_000 }).toBe('ok');
    await expect.poll(() => chat().then(() => 'ok', (e: { status?: number; code?: string }) => `${e.status} ${e.code}`)).toBe('429 insufficient_quota');
    await expect(client.chat.completions.create({ model: 'e2e/other-model', messages: [{ role: 'user', content: 'x' }] })).rejects.toMatchObject({ status: 404, code: 'model_not_found' });
    // Today's spend and this month's are the same amount (all of it today), not nothing, and both shown whole.
    await expect.poll(async () => {
      await page.reload();
      const [today, month] = (await row().getByTestId('key-spend').locator('.amount').allTextContents());
      return today !== '$0.00' && today === month;
    }, { timeout: 20_000 }).toBe(true);
    const spend = row().getByTestId('key-spend').locator('.amount').last();
    const [cell, amount] = await Promise.all([row().getByTestId('key-spend').boundingBox(), spend.boundingBox()]);
    const actions = await row().locator('td.actions').boundingBox();
    expect(amount!.x + amount!.width).toBeLessThanOrEqual(Math.min(cell!.x + cell!.width, actions!.x) + 1);
  });

  it('Escape cancels the editor and focus returns to its Edit button; saving changes budgets and models', async () => {
    const keyId = (await stack.prisma.apiKey.findFirstOrThrow({ where: { name: 'budgeted' } })).id;
    await row().getByRole('button', { name: 'Edit limits' }).click();
    await row().getByLabel('Daily budget (USD)').fill('999');
    await row().getByLabel('Daily budget (USD)').press('Escape');
    await expect.poll(() => row().locator('form[action="?/limits"]').count()).toBe(0);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe(`edit-${keyId}`);
    expect(await row().getByTestId('key-budgets').textContent()).not.toContain('999');

    await row().getByRole('button', { name: 'Edit limits' }).click();
    await row().getByLabel('Daily budget (USD)').fill('');
    await row().getByLabel('Monthly budget (USD)').fill('25');
    await row().getByLabel(MODEL, { exact: true }).uncheck();
    await row().getByRole('button', { name: 'Save' }).click();
    await page.getByText('Limits saved').waitFor();
    await expect.poll(() => row().getByTestId('key-budgets').textContent()).toBe('$25.00 a month');
    expect(await row().getByTestId('key-models').textContent()).toBe('all models');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe(`edit-${keyId}`);
    const audit = await stack.prisma.auditLog.findFirstOrThrow({ where: { action: 'api_key.update_spend_controls', targetId: keyId } });
    expect(audit.metadata).toMatchObject({ to: { dailyBudgetMicros: null, monthlyBudgetMicros: '25000000', allowedModels: [] } });
  });

  it('every control of the table, the inline editor open, is on screen and axe-clean at desktop and phone widths', async () => {
    for (const viewport of [DESKTOP, MOBILE]) {
      await page.setViewportSize(viewport);
      await page.goto(`${stack.webUrl}/keys`);
      await row().getByRole('button', { name: 'Edit limits' }).click();
      expect(await hiddenTableControls(page), `${viewport.width} px`).toEqual([]);
      expect(await seriousA11yViolations(page), `${viewport.width} px`).toEqual([]);
    }
    await page.setViewportSize(DESKTOP);
    await page.goto(`${stack.webUrl}/keys`);
  });

  it('rotating (confirmed) shows the new secret once, with a Copy button named for it; the old secret stops working', async () => {
    await clickAnswering(page, row().getByRole('button', { name: 'Rotate budgeted' }), 'accept');
    await page.getByText('Key “budgeted” rotated').waitFor();
    const rotated = (await page.getByTestId('new-key-secret').textContent())!.trim();
    expect(rotated).not.toBe(secret);
    expect(await page.getByRole('button', { name: 'Copy secret of budgeted' }).count()).toBe(1);
    const old = new OpenAI({ baseURL: `${stack.apiUrl}/v1`, apiKey: secret, maxRetries: 0 });
    await expect.poll(() => old.models.list().then(() => 200, (e: { status?: number }) => e.status)).toBe(401);
    // The new key keeps the settings.
    expect(await stack.prisma.apiKey.findFirstOrThrow({ where: { name: 'budgeted', revokedAt: null } })).toMatchObject({ monthlyBudgetMicros: 25_000_000n, scopes: ['inference', 'graphql'] });
  });

  it('a member sees spend, budgets and models but no editor', async () => {
    const member = await signedInContext(browser, stack, MEMBER_EMAIL);
    const memberPage = await member.newPage();
    await memberPage.goto(`${stack.webUrl}/keys`);
    // The rotated key, newest first (its revoked predecessor is listed after it).
    const memberRow = memberPage.locator('tr[data-key-name="budgeted"]').first();
    await memberRow.waitFor();
    expect(await memberRow.getByTestId('key-budgets').textContent()).toBe('$25.00 a month');
    expect(await memberRow.getByRole('button', { name: 'Edit limits' }).count()).toBe(0);
    expect(await memberRow.getByRole('button', { name: 'Rotate budgeted' }).count()).toBe(0);
    await memberPage.getByTestId('keys-read-only').waitFor();
    await member.close();
  });

  it('lists past 50 keys on further pages', async () => {
    const org = await stack.prisma.organization.findFirstOrThrow({ where: { memberships: { some: { user: { email: ADMIN_EMAIL } } } } });
    await stack.prisma.apiKey.createMany({
      data: Array.from({ length: 55 }, (_, i) => ({ organizationId: org.id, name: `bulk ${i}`, prefix: `bulk${String(i).padStart(8, '0')}`, secretHash: 'x'.repeat(64) })),
    });
    await page.goto(`${stack.webUrl}/keys`);
    expect(await page.locator('tbody tr').count()).toBe(50);
    await page.getByRole('link', { name: 'Next 50 keys' }).click();
    await page.getByRole('link', { name: 'First keys' }).waitFor();
    const total = await stack.prisma.apiKey.count({ where: { organizationId: org.id } });
    expect(await page.locator('tbody tr').count()).toBe(Math.min(50, total - 50));
  });
});
