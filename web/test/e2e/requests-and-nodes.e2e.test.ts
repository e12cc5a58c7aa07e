// The Requests page and the node pages' launch form and detail, in Debian's Chromium against the whole
// stack. Requests: real /v1 calls (openai SDK) listed with their request ids, filtered by key and status,
// paged, another tenant's never shown. Nodes: a STATIC node launched from the form (base URL and key),
// placeholders that are examples only, the detail page's times to the second, "not ready yet" while
// launching, Terminate with confirmation (refused to a member), axe-clean at both widths.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { generateKey } from '@cic/core/api-keys/key-format';
import { DEFAULT_MODELS } from '@cic/core/bootstrap/default-models';
import { createSimulator, type Simulator } from '@cic/vllm-sim';
import OpenAI from 'openai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clickAnswering, DESKTOP, hiddenTableControls, launchBrowser, MOBILE, seriousA11yViolations } from './support/browser.ts';
import { signedInContext } from './support/signed-in.ts';
import { ADMIN_EMAIL, createSessionCookie, registerStaticNode, startStack, type Stack } from './support/stack.ts';

const SHOTS = new URL('../../test-results/screenshots/', import.meta.url).pathname;
const MODEL = DEFAULT_MODELS[0]!.name;
const NODE_KEY = 'e2e-static-node-key-0123456789';

let stack: Stack;
let browser: Browser;
let closeBrowser: () => Promise<void>;
let admin: BrowserContext;
let page: Page;
let keyed: Simulator;
let closeServing: () => Promise<void>;
let orgId: string;
const requestIds: Record<string, string> = {};

async function addKey(organizationId: string, name: string) {
  const k = generateKey();
  const row = await stack.prisma.apiKey.create({ data: { organizationId, name, prefix: k.prefix, secretHash: k.secretHash, scopes: ['inference'] } });
  return { id: row.id, secret: k.secret };
}

/** A usage record written straight to the database (statuses the simulator does not produce, another tenant's). */
async function record(organizationId: string, apiKeyId: string, requestId: string, status: number, minutesAgo: number) {
  await stack.prisma.usageRecord.create({
    data: {
      id: `use_${randomUUID().replace(/-/g, '')}`, requestId, organizationId, apiKeyId, modelName: MODEL, endpoint: '/v1/chat/completions', stream: false,
      promptTokens: 10, completionTokens: status < 400 ? 5 : 0, durationMs: 120, status, outcome: status < 400 ? 'SUCCESS' : 'ERROR', startedAt: new Date(Date.now() - minutesAgo * 60_000),
    },
  });
}

const rowIds = () => page.locator('tr[data-request-id]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-request-id')));

async function a11yAndFit(path: string, name: string): Promise<string[]> {
  const problems: string[] = [];
  for (const [size, viewport] of [['desktop', DESKTOP], ['mobile', MOBILE]] as const) {
    await page.setViewportSize(viewport);
    const res = await page.goto(`${stack.webUrl}${path}`);
    if (res?.status() !== 200) problems.push(`${path} (${size}): HTTP ${res?.status()}`);
    await page.waitForLoadState('networkidle').catch(() => {});
    await page.screenshot({ path: join(SHOTS, `${name}-${size}.png`), fullPage: true });
    for (const v of await seriousA11yViolations(page)) problems.push(`${path} (${size}): ${v.impact} ${v.id} — ${v.help} @ ${v.nodes.join(', ')}`);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    if (overflow > 1) problems.push(`${path} (${size}): the page is ${overflow}px wider than the screen`);
    for (const hidden of await hiddenTableControls(page)) problems.push(`${path} (${size}): ${hidden}`);
    // Nothing in a table is cut off behind a sideways scroll (a long request id must wrap).
    const scrolled = await page.locator('.rtable').evaluateAll((tables) => tables.filter((t) => t.scrollWidth - t.clientWidth > 1).length);
    if (scrolled) problems.push(`${path} (${size}): ${scrolled} table(s) scroll sideways`);
  }
  await page.setViewportSize(DESKTOP);
  return problems;
}

beforeAll(async () => {
  stack = await startStack();
  ({ browser, close: closeBrowser } = await launchBrowser());
  keyed = await createSimulator({ model: MODEL, host: '127.0.0.1', port: 0, apiKey: NODE_KEY });
  ({ close: closeServing } = await registerStaticNode(stack));
  orgId = stack.boot.organizationId;
  admin = await signedInContext(browser, stack, ADMIN_EMAIL);
  page = await admin.newPage();
}, 180_000);

afterAll(async () => {
  await closeBrowser?.();
  await closeServing?.();
  await keyed?.close();
  await stack?.stop();
}, 60_000);

describe('Requests', () => {
  it('lists real requests with their key, tokens, timings, cost and request id; filters by key and status', async () => {
    const other = await addKey(orgId, 'batch jobs');
    // The API hears of the node on the bus; until then a request is refused (and metered), and an SDK
    // retry would add a record of its own: wait until the model is served, and let no call retry.
    const served = new OpenAI({ apiKey: stack.boot.createdKey!, baseURL: `${stack.apiUrl}/v1`, maxRetries: 0 });
    await expect.poll(async () => (await served.models.list()).data.some((m) => m.id === MODEL), { timeout: 30_000 }).toBe(true);
    const call = async (apiKey: string, label: string) => {
      const client = new OpenAI({ apiKey, baseURL: `${stack.apiUrl}/v1`, maxRetries: 0 });
      const { response } = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: label }] }).withResponse();
      requestIds[label] = response.headers.get('x-request-id')!;
    };
    await call(stack.boot.createdKey!, 'first');
    await call(other.secret, 'second');
    await record(orgId, other.id, 'req_e2e_server_error', 503, 1);
    // Another tenant's request, newer than all of ours.
    const theirs = await stack.prisma.organization.create({ data: { name: 'Other tenant', slug: `other-${randomUUID().slice(0, 8)}` } });
    await record(theirs.id, (await addKey(theirs.id, 'theirs')).id, 'req_e2e_other_tenant', 200, 0);
    // The usage writer stores records in batches.
    await expect.poll(() => stack.prisma.usageRecord.count({ where: { organizationId: orgId } }), { timeout: 30_000 }).toBe(3);

    await page.goto(`${stack.webUrl}/`);
    expect(await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Requests' }).getAttribute('href')).toBe('/requests');
    await page.goto(`${stack.webUrl}/requests`);
    expect(await rowIds()).toEqual([requestIds.second, requestIds.first, 'req_e2e_server_error']);
    const first = page.locator(`tr[data-request-id="${requestIds.first}"]`);
    const text = (await first.innerText()).replace(/\s+/g, ' ');
    expect(text).toMatch(/\d{2}:\d{2}:\d{2}/);
    expect(text).toContain(MODEL);
    expect(text).toContain('200');
    expect(text).toMatch(/\$0\.0\d*/);
    expect(await page.content()).not.toContain('req_e2e_other_tenant');

    await page.getByLabel('API key').selectOption({ label: `batch jobs (${(await stack.prisma.apiKey.findUniqueOrThrow({ where: { id: other.id } })).prefix})` });
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/key=/);
    expect(await rowIds()).toEqual([requestIds.second, 'req_e2e_server_error']);
    await page.getByLabel('Status').selectOption('SERVER_ERROR');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/status=SERVER_ERROR/);
    expect(await rowIds()).toEqual(['req_e2e_server_error']);
    await page.getByRole('link', { name: 'Clear' }).click();
    await page.waitForURL(`${stack.webUrl}/requests`);
    expect(await rowIds()).toHaveLength(3);
  });

  it('is axe-clean and fits the screen at 1280 and 390 px', async () => {
    expect(await a11yAndFit('/requests', 'requests')).toEqual([]);
  }, 60_000);

  it('pages through older requests, 50 at a time', async () => {
    const key = await stack.prisma.apiKey.findFirstOrThrow({ where: { organizationId: orgId, name: 'batch jobs' } });
    for (let i = 0; i < 50; i++) await record(orgId, key.id, `req_e2e_old_${String(i).padStart(2, '0')}`, 200, 60 + i);
    await page.goto(`${stack.webUrl}/requests`);
    expect(await rowIds()).toHaveLength(50);
    await page.getByRole('link', { name: 'Older requests' }).click();
    await page.waitForURL(/after=/);
    expect(await rowIds()).toEqual(['req_e2e_old_47', 'req_e2e_old_48', 'req_e2e_old_49']);
    expect(await page.getByRole('link', { name: 'Older requests' }).count()).toBe(0);
    await page.getByRole('link', { name: 'Newest' }).click();
    await page.waitForURL(`${stack.webUrl}/requests`);
    expect((await rowIds())[0]).toBe(requestIds.second);
  });

});

describe('Nodes: launch form and node detail', () => {
  let nodeId = '';

  it('offers each provider its own settings, with placeholders that are examples only', async () => {
    await page.goto(`${stack.webUrl}/nodes`);
    const form = page.locator('form[action="?/launch"]');
    await page.getByLabel('Provider').selectOption('SKYPILOT');
    for (const label of ['Accelerator', 'Cloud', 'Region', 'Model source', 'vLLM arguments']) {
      const field = form.getByLabel(label, { exact: true });
      expect(await field.inputValue(), label).toBe('');
      expect(await field.getAttribute('placeholder'), label).toMatch(/^e\.g\. /);
    }
    await page.getByLabel('Provider').selectOption('STATIC');
    expect(await form.getByLabel('Accelerator').count()).toBe(0);
    expect(await form.getByLabel('Base URL').getAttribute('placeholder')).toMatch(/^e\.g\. /);
  });

  it('launches a STATIC node from its base URL and key; it goes READY', async () => {
    await page.goto(`${stack.webUrl}/nodes`);
    await page.getByLabel('Model').selectOption(MODEL);
    await page.getByLabel('Provider').selectOption('STATIC');
    await page.getByLabel('Base URL').fill(keyed.url);
    await page.getByLabel('API key (optional)').fill(NODE_KEY);
    await page.getByRole('button', { name: 'Launch' }).click();
    const status = page.getByRole('status').filter({ hasText: /is (PENDING|PROVISIONING)/ });
    await status.waitFor();
    nodeId = /node_[a-z0-9]+/.exec((await status.textContent()) ?? '')![0];
    const node = await stack.prisma.node.findUniqueOrThrow({ where: { id: nodeId } });
    expect(node.provider).toBe('STATIC');
    expect(node.config).toMatchObject({ baseUrl: keyed.url });
    expect(node.apiKeyCiphertext).not.toBeNull();
    expect(node.apiKeyCiphertext).not.toContain(NODE_KEY);
    const badge = page.locator(`tr[data-node-id="${nodeId}"] [data-testid="node-status"]`);
    // Only the right key makes the probes pass: READY proves the key reached the node.
    await expect.poll(() => badge.textContent(), { timeout: 60_000, interval: 250 }).toBe('READY');
    expect(await page.content()).not.toContain(NODE_KEY);
  }, 90_000);

  it('node detail: event times to the second, readiness in words, no server paths', async () => {
    await page.goto(`${stack.webUrl}/nodes/${nodeId}`);
    await expect.poll(() => page.locator('.log').textContent()).toContain('STARTING → READY');
    const times = await page.locator('.log time').allTextContents();
    expect(times.length).toBeGreaterThan(2);
    for (const t of times) expect(t).toMatch(/\d{2}:\d{2}:\d{2} UTC$/);
    expect(await page.getByTestId('node-readiness').textContent()).toMatch(/^ready \d/);
    expect(await page.locator('.log').textContent()).not.toMatch(/\/(tmp|work|home)\//);

    // A node still launching reads "not ready yet", not "ready never".
    const served = await stack.prisma.servedModel.findUniqueOrThrow({ where: { name: MODEL } });
    const pending = await stack.prisma.node.create({ data: { provider: 'STATIC', clusterName: `e2e-pending-${Date.now()}`, modelId: served.id, status: 'PENDING' } });
    await page.goto(`${stack.webUrl}/nodes/${pending.id}`);
    expect(await page.getByTestId('node-readiness').textContent()).toBe('not ready yet');
  });

  it('security: a member cannot terminate a node (403), and the node keeps running', async () => {
    const member = await stack.prisma.user.create({ data: { email: `member-${randomUUID().slice(0, 8)}@cic.test` } });
    await stack.prisma.membership.create({ data: { userId: member.id, organizationId: orgId, role: 'MEMBER' } });
    const cookie = await createSessionCookie(stack, member.id, new Date(Date.now() + 600_000));
    const res = await fetch(`${stack.webUrl}/nodes/${nodeId}?/terminate`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: stack.webUrl, cookie: `authjs.session-token=${cookie}` },
      body: `id=${nodeId}`,
    });
    expect(res.status).toBe(403);
    expect((await stack.prisma.node.findUniqueOrThrow({ where: { id: nodeId } })).status).toBe('READY');
  });

  it('is axe-clean and fits the screen at 1280 and 390 px', async () => {
    expect([...await a11yAndFit('/nodes', 'nodes'), ...await a11yAndFit(`/nodes/${nodeId}`, 'node-detail')]).toEqual([]);
  }, 60_000);

  it('terminates from the detail page after confirming (a dismissed confirmation sends nothing)', async () => {
    await page.goto(`${stack.webUrl}/nodes/${nodeId}`);
    await clickAnswering(page, page.getByRole('button', { name: `Terminate ${nodeId}` }), 'dismiss');
    await page.waitForLoadState('networkidle');
    expect((await stack.prisma.node.findUniqueOrThrow({ where: { id: nodeId } })).status).toBe('READY');
    await clickAnswering(page, page.getByRole('button', { name: `Terminate ${nodeId}` }), 'accept');
    await page.getByRole('status').filter({ hasText: 'Termination requested' }).waitFor();
    await expect.poll(() => page.getByTestId('node-status').textContent(), { timeout: 60_000, interval: 250 }).toBe('TERMINATED');
    expect(await page.getByRole('button', { name: `Terminate ${nodeId}` }).count()).toBe(0);
  }, 90_000);
});
