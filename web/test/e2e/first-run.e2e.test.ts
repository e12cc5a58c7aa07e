import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from './support/browser.ts';
import { signedInContext } from './support/signed-in.ts';
import { ADMIN_EMAIL, startStack, type Stack } from './support/stack.ts';

/**
 * A new user's first run in manual billing mode (issue 14, item 3): a platform admin sets the sign-up
 * policy, the credit for new organizations and the operator contact on the Admin page; a stranger asking
 * for a link sees the usual page but is mailed why no link came; an invited address signs up, finds the
 * credit in its new organization, and is told whom to ask for more instead of being offered a purchase.
 */
let stack: Stack;
let browser: Browser;
let closeBrowser: () => Promise<void>;
let admin: BrowserContext;
const CONTACT = 'https://help.example.test/credits';

async function askForLink(page: Page, email: string): Promise<void> {
  await page.goto(`${stack.webUrl}/signin`);
  await page.getByLabel('Email').fill(email);
  await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
  await page.waitForURL(/\/signin\/check-email/);
}

beforeAll(async () => {
  stack = await startStack();
  ({ browser, close: closeBrowser } = await launchBrowser());
  admin = await signedInContext(browser, stack, ADMIN_EMAIL);
}, 180_000);

afterAll(async () => {
  await closeBrowser?.();
  await stack?.stop();
}, 60_000);

describe('first run for a new user', () => {
  it('a platform admin sets invite-only sign-up, 3 USD for new organizations and the operator contact (audited)', async () => {
    const page = await admin.newPage();
    await page.goto(`${stack.webUrl}/admin`);
    await page.getByLabel('Sign-up').selectOption('INVITE_ONLY');
    await page.getByLabel('Credit for new organizations (USD)').fill('3');
    await page.getByLabel('Operator contact (email or https URL)').fill('call me maybe');
    await page.getByRole('button', { name: 'Save platform settings' }).click();
    await page.getByText(/Invalid operatorContact: expected an email address or an https:\/\/ URL/).waitFor();
    await page.getByLabel('Operator contact (email or https URL)').fill(CONTACT);
    await page.getByRole('button', { name: 'Save platform settings' }).click();
    await page.getByText('Platform settings saved.').waitFor();
    expect(await stack.prisma.platformSettings.findUniqueOrThrow({ where: { id: 'platform' } })).toMatchObject({
      signupPolicy: 'INVITE_ONLY', newOrganizationCreditMicros: 3_000_000n, operatorContact: CONTACT,
    });
    expect(await stack.prisma.auditLog.count({ where: { action: 'platform_settings.update' } })).toBe(1);
    await page.reload();
    expect(await page.getByLabel('Sign-up').inputValue()).toBe('INVITE_ONLY');
    await page.close();
  });

  it('a stranger gets the same page but a mail saying why, and no account', async () => {
    const context = await browser.newContext();
    await askForLink(await context.newPage(), 'stranger@first.test');
    const error = await stack.mailbox.magicLink('stranger@first.test').then(() => null, (err: Error) => err.message);
    expect(error).toContain('no sign-in link in the mail to stranger@first.test');
    expect(error).toContain('by invitation only');
    expect(await stack.prisma.user.count({ where: { email: 'stranger@first.test' } })).toBe(0);
    await context.close();
  });

  it('an invited address signs up, has the credit, and is told whom to ask for more', async () => {
    const org = await stack.prisma.membership.findFirstOrThrow({ where: { user: { email: ADMIN_EMAIL } } });
    await stack.prisma.invitation.create({ data: { organizationId: org.organizationId, email: 'newbie@first.test', role: 'MEMBER', expiresAt: new Date(Date.now() + 86_400_000) } });
    const context = await browser.newContext();
    const page = await context.newPage();
    await askForLink(page, 'newbie@first.test');
    await page.goto(await stack.mailbox.magicLink('newbie@first.test'));
    await page.waitForURL(`${stack.webUrl}/`);
    expect(await page.getByTestId('balance').textContent()).toBe('$3.00');
    expect(await page.getByTestId('low-balance-manual').textContent()).toContain('Credits are added by the operator of this platform');
    expect(await page.getByTestId('operator-contact').getAttribute('href')).toBe(CONTACT);
    expect(await page.getByRole('link', { name: 'Buy credits' }).count()).toBe(0);

    await page.goto(`${stack.webUrl}/billing`);
    expect(await page.getByTestId('manual-credits').textContent()).toMatch(/not bought here: ask https:\/\/help\.example\.test\/credits to add credits/);
    expect(await page.getByRole('button', { name: /Pay with Stripe/ }).count()).toBe(0);
    // The hint for platform admins (how to grant, how to enable Stripe) is not shown to a user.
    expect(await page.getByText('STRIPE_SECRET_KEY').count()).toBe(0);
    await context.close();
  });
});
