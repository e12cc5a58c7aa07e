import { chromium, type Browser, type Dialog, type Locator, type Page } from 'playwright-core';

/**
 * Debian's Chromium with the flags that keep it quiet on a closed network (see TOOLCHAIN.md).
 * Playwright gives it a fresh temporary profile and removes it on close.
 */
export async function launchBrowser(): Promise<{ browser: Browser; close: () => Promise<void> }> {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  return {
    browser,
    close: () => browser.close(),
  };
}

export const DESKTOP = { width: 1280, height: 860 };
export const MOBILE = { width: 390, height: 844 };

/** Serious or critical axe-core violations on the current page (empty is the goal). */
export async function seriousA11yViolations(page: Page): Promise<{ id: string; impact: string; help: string; nodes: string[] }[]> {
  const { createRequire } = await import('node:module');
  const source = (await import('node:fs')).readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  await page.addScriptTag({ content: source });
  const result = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document, opts: unknown) => Promise<{ violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[] }> } }).axe;
    return axe.run(document, { resultTypes: ['violations'] });
  });
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')) }));
}

/**
 * Every control in a table (buttons, links, inputs, selects) that a person cannot see and reach as the
 * page loads: cut off by the screen or by a scrolling ancestor (an unmarked sideways scroll), or covered by
 * something else. Empty is the goal at every width.
 */
export async function hiddenTableControls(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const problems: string[] = [];
    for (const el of document.querySelectorAll<HTMLElement>('table :is(button, a, input:not([type="hidden"]), select)')) {
      if (!el.checkVisibility()) continue;
      // Bring it into view vertically only: a sideways scroll is exactly what must not be needed.
      window.scrollTo(0, window.scrollY + el.getBoundingClientRect().top - window.innerHeight / 2);
      const r = el.getBoundingClientRect();
      let left = 0;
      let right = window.innerWidth;
      for (let p = el.parentElement; p; p = p.parentElement) {
        if (getComputedStyle(p).overflowX === 'visible') continue;
        const box = p.getBoundingClientRect();
        left = Math.max(left, box.left);
        right = Math.min(right, box.right);
      }
      const name = (el.getAttribute('aria-label') ?? el.textContent ?? el.id).trim().replace(/\s+/g, ' ');
      const hit = document.elementFromPoint(Math.min(Math.max(r.left + r.width / 2, 0), window.innerWidth - 1), r.top + r.height / 2);
      if (r.left < left - 1 || r.right > right + 1) problems.push(`${el.tagName.toLowerCase()} "${name}" spans ${Math.round(r.left)}–${Math.round(r.right)}px; visible: ${Math.round(left)}–${Math.round(right)}px`);
      else if (!hit || !(el === hit || el.contains(hit) || hit.contains(el))) problems.push(`${el.tagName.toLowerCase()} "${name}" is covered by ${hit?.tagName.toLowerCase() ?? 'nothing'}`);
    }
    window.scrollTo(0, 0);
    return problems;
  });
}

/**
 * Clicks a button whose form asks for confirmation, and answers the dialog. A click that fails (the
 * button never came) takes its answer back, so it cannot answer a later test's dialog.
 */
export async function clickAnswering(page: Page, button: Locator, answer: 'accept' | 'dismiss'): Promise<void> {
  const handler = (dialog: Dialog) => void (answer === 'accept' ? dialog.accept() : dialog.dismiss());
  page.once('dialog', handler);
  try {
    await button.click();
  } catch (err) {
    page.off('dialog', handler);
    throw err;
  }
}
