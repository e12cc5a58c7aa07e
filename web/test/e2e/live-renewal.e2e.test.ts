import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from './support/browser.ts';
import { signedInContext } from './support/signed-in.ts';
import { DEFAULT_MODELS } from '@cic/core/bootstrap/default-models';
import { createRedis } from '@cic/core/lib/redis';
import { TopicBus } from '@cic/core/lib/topic-bus';
import { pino } from 'pino';
import { ADMIN_EMAIL, registerStaticNode, startStack, type Stack } from './support/stack.ts';

/**
 * A tab left open outlives many browser tokens: with a 3-second token the API closes the live socket
 * every few seconds (4419), and the page must reconnect with a fresh token each time, quietly, and still
 * receive the events published afterwards.
 */
const TOKEN_TTL_SECONDS = 3;

let stack: Stack;
let browser: Browser;
let closeBrowser: () => Promise<void>;

beforeAll(async () => {
  stack = await startStack({ webEnv: { BROWSER_TOKEN_TTL_SECONDS: String(TOKEN_TTL_SECONDS) } });
  ({ browser, close: closeBrowser } = await launchBrowser());
}, 180_000);

afterAll(async () => {
  await closeBrowser?.();
  await stack?.stop();
}, 60_000);

/** Every value the live badge takes, recorded in the page from its first paint. */
async function recordBadge(page: Page) {
  await page.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { __badge: string[] }).__badge = seen;
    new MutationObserver(() => {
      const status = document.querySelector('[data-live-status]')?.getAttribute('data-live-status');
      if (status && seen.at(-1) !== status) seen.push(status);
    }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-live-status'] });
  });
  return () => page.evaluate(() => (window as unknown as { __badge: string[] }).__badge);
}

/** Routes the page's graphql-ws sockets through the test: server close codes, the messages delivered and those sent. */
async function watchSockets(page: Page) {
  const seen = { opened: 0, serverCloses: [] as number[], messages: [] as string[], sent: [] as string[] };
  await page.routeWebSocket(/\/graphql$/, (ws) => {
    seen.opened += 1;
    const server = ws.connectToServer();
    ws.onMessage((message) => {
      seen.sent.push(String(message));
      server.send(message);
    });
    server.onMessage((message) => {
      seen.messages.push(String(message));
      ws.send(message);
    });
    server.onClose((code, reason) => {
      seen.serverCloses.push(code ?? 0);
      void ws.close({ code, reason });
    });
  });
  return seen;
}

describe('live updates past the browser token lifetime', () => {
  it('the nodes page stays live across token renewals and shows a node registered after them', async () => {
    const context = await signedInContext(browser, stack, ADMIN_EMAIL);
    const page = await context.newPage();
    const badge = await recordBadge(page);
    const sockets = await watchSockets(page);
    let registered: Awaited<ReturnType<typeof registerStaticNode>> | undefined;
    try {
      await page.goto(`${stack.webUrl}/nodes`);
      await page.locator('[data-live-status="live"]').waitFor();
      await page.evaluate(() => ((window as unknown as { __noReload: boolean }).__noReload = true));
      // Two expiries: the page has been open for more than twice the token's lifetime.
      await expect.poll(() => sockets.serverCloses.filter((c) => c === 4419).length, { timeout: 30_000 }).toBeGreaterThanOrEqual(2);
      await expect.poll(() => sockets.opened, { timeout: 15_000 }).toBeGreaterThanOrEqual(3);
      await page.locator('[data-live-status="live"]').waitFor();

      registered = await registerStaticNode(stack);
      await page.locator(`tr[data-node-id="${registered.node.id}"]`).waitFor({ timeout: 15_000 });
      // Each renewal also reloads the page's data, so the row alone does not prove a live event: the node's
      // status changes until one reaches the page as an event on a renewed socket, and the page receives it.
      const node = registered.node;
      const log = pino({ level: 'silent' });
      const redis = createRedis(stack.redisUrl, log);
      const bus = new TopicBus({ redis, prefix: stack.channelPrefix, log });
      try {
        await expect.poll(async () => {
          await bus.publish('nodeStatusChanged', { nodeId: node.id, modelName: DEFAULT_MODELS[0]!.name, status: 'UNHEALTHY', previousStatus: 'READY', reason: 'e2e probe', at: new Date().toISOString() });
          return sockets.messages.some((m) => m.includes('nodeStatusChanged') && m.includes(node.id));
        }, { timeout: 15_000, interval: 500 }).toBe(true);
      } finally {
        await bus.close();
        await redis.quit();
      }
      expect(await page.evaluate(() => (window as unknown as { __noReload?: boolean }).__noReload)).toBe(true);
      // Renewals are quiet: the badge never left "Live" for "Reconnecting…" or "Live updates failed".
      expect(await badge()).toEqual(['connecting', 'live']);
    } finally {
      await context.close();
      if (registered) {
        await stack.prisma.node.update({ where: { id: registered.node.id }, data: { status: 'TERMINATED', terminatedAt: new Date() } });
        await registered.close();
      }
    }
  }, 90_000);

  it('a renewal while the user follows a link does not cancel the navigation', async () => {
    // SvelteKit lets an invalidation win over a navigation in flight: a page that reloaded its data on
    // every (re)connect made a click that landed during a renewal do nothing at all.
    const context = await signedInContext(browser, stack, ADMIN_EMAIL);
    const page = await context.newPage();
    const sockets = await watchSockets(page);
    try {
      await page.goto(`${stack.webUrl}/`);
      await page.locator('[data-live-status="live"]').waitFor();
      // The Usage page's data is held until the overview's socket has been renewed and the page has
      // taken the new connection in (it subscribes again on it, after running its on-connect handlers).
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      await page.route(/\/usage\/__data\.json/, async (route) => {
        await held;
        await route.continue();
      });
      const opened = sockets.opened;
      const subscribes = () => sockets.sent.filter((m) => m.includes('"subscribe"')).length;
      await page.getByRole('link', { name: 'Usage' }).click();
      await expect.poll(() => sockets.opened, { timeout: TOKEN_TTL_SECONDS * 1000 + 15_000 }).toBeGreaterThan(opened);
      const before = subscribes();
      await expect.poll(subscribes, { timeout: 15_000 }).toBeGreaterThan(before);
      release();
      await expect.poll(() => new URL(page.url()).pathname, { timeout: 15_000 }).toBe('/usage');
      await page.getByRole('heading', { level: 1, name: 'Usage' }).waitFor();
    } finally {
      await context.close();
    }
  }, 60_000);

  it('security: once the session is signed out, the next renewal fails and the page says so', async () => {
    const context = await signedInContext(browser, stack, ADMIN_EMAIL);
    const page = await context.newPage();
    try {
      // Signed out between two renewals: after a connect's resync has reloaded the page's data (a reload
      // after the sign-out would go to the sign-in page instead, which is also fine but not this test).
      const user = await stack.prisma.user.findUniqueOrThrow({ where: { email: ADMIN_EMAIL } });
      const resynced = page.waitForResponse((r) => r.url().includes('/__data.json'));
      await page.goto(`${stack.webUrl}/`);
      await resynced;
      await stack.prisma.session.deleteMany({ where: { userId: user.id } });
      const failed = page.locator('[data-live-status="error"]');
      await failed.waitFor({ timeout: TOKEN_TTL_SECONDS * 1000 + 15_000 });
      expect(await page.getByTestId('live-error').textContent()).toMatch(/session has ended; sign in again/);
    } finally {
      await context.close();
    }
  }, 60_000);
});
