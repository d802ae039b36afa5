/// <reference lib="dom" />
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import axe from 'axe-core';
import { chromium, type Browser, type Page } from 'playwright-core';

export const SCREENSHOT_DIR = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../test-artifacts/screenshots');

/** Debian's Chromium; the flags keep it off the network this machine does not have. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

/** Every visible form control has a label a screen reader announces. */
export function unlabelledControls(page: Page): Promise<string[]> {
  return page.$$eval('input, select, textarea', (elements) =>
    elements
      .filter((el) => (el as HTMLInputElement).type !== 'hidden' && (el as HTMLElement).offsetParent !== null)
      .filter((el) => {
        const control = el as HTMLInputElement;
        return (
          !(control.labels && control.labels.length > 0) && !control.getAttribute('aria-label') && !control.getAttribute('aria-labelledby')
        );
      })
      .map((el) => el.outerHTML.slice(0, 120)),
  );
}

/** Tabs through the page and returns the visible buttons the keyboard never reached. */
export async function buttonsUnreachableByKeyboard(page: Page): Promise<string[]> {
  const buttons = await page.$$eval('button, a.button', (els) =>
    els
      .filter((el) => (el as HTMLElement).offsetParent !== null)
      .map((el, i) => {
        el.setAttribute('data-kb-probe', String(i));
        return String(i);
      }),
  );
  const reached = new Set<string>();
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  for (let i = 0; i < 200 && reached.size < buttons.length; i++) {
    await page.keyboard.press('Tab');
    const probe = await page.evaluate(() => document.activeElement?.getAttribute('data-kb-probe') ?? null);
    if (probe !== null) reached.add(probe);
  }
  return buttons.filter((b) => !reached.has(b));
}

/** How wide the page is, scrolled sideways to its end: more than the viewport means the page scrolls sideways. */
export function pageWidth(page: Page): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth);
}

/**
 * axe-core's serious and critical findings on the page as it is now, one line each. The message
 * previews inside frames are emails, checked by their own rules elsewhere, so frames are left out.
 */
export async function seriousAccessibilityProblems(page: Page): Promise<string[]> {
  // Evaluated by the browser's debugger, which the page's Content-Security-Policy does not govern.
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(axe.source);
  const results = await page.evaluate(() =>
    (window as unknown as { axe: typeof axe }).axe.run(document, { iframes: false, resultTypes: ['violations'] }),
  );
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) =>
        `${v.id} (${v.impact}): ${v.help} at ${v.nodes
          .slice(0, 3)
          .map((n) => n.target.join(' '))
          .join(', ')}`,
    );
}
