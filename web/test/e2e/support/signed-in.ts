import type { Browser, BrowserContext } from 'playwright-core';
import { DESKTOP } from './browser.ts';
import { createSessionCookie, type Stack } from './stack.ts';

/** A browser context signed in as `email` through a real session row (as Auth.js makes at sign-in). */
export async function signedInContext(browser: Browser, stack: Stack, email: string, viewport = DESKTOP): Promise<BrowserContext> {
  const user = await stack.prisma.user.findUniqueOrThrow({ where: { email } });
  const value = await createSessionCookie(stack, user.id, new Date(Date.now() + 3_600_000));
  const context = await browser.newContext({ viewport });
  await context.addCookies([{ name: 'authjs.session-token', value, url: stack.webUrl }]);
  return context;
}
