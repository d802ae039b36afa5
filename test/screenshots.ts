/// <reference lib="dom" />
/**
 * `npm run screenshots`: the console's main pages at 390 px and 1,280 px, into docs/screenshots.
 * Not a test: it seeds a console of its own (the browser tests' data) and photographs it. Needs
 * Redis at REDIS_URL and Chromium; the database is an in-memory PGlite.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { launchChromium } from './support/browser.js';
import { mainPages, seedConsole, signInAs } from './support/console-pages.js';
import { Harness } from './support/harness.js';

const OUT_DIR = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../docs/screenshots');
const SHOWN = new Set([
  'sign-in',
  'campaign-list',
  'compose',
  'campaign-sent',
  'deliveries',
  'submit-confirm',
  'approval',
  'lists',
  'admin',
  'account',
]);
const WIDTHS = [390, 1280];

/** A draft being written, with a typo the page flags, rather than an empty form. */
async function composeSomething(page: Page): Promise<void> {
  await page.getByLabel('Subject').fill('Desk moves on Monday');
  await page.getByLabel(/^Message/).fill('Hello {{fristName}},\n\nFrom Monday your desk is **{{desk}}**, on the second floor.');
  await page.getByLabel(/Finance team/).check();
  await page
    .getByTestId('merge-warnings')
    .getByText(/Did you mean/)
    .waitFor();
  await page.frameLocator('#preview').locator('p', { hasText: 'second floor' }).waitFor();
}

const h = await Harness.start({ env: { HOLD_WINDOW_SECONDS: '0', ORG_TIME_ZONE: 'Europe/Paris' } });
const browser = await launchChromium();
try {
  const data = await seedConsole(h);
  mkdirSync(OUT_DIR, { recursive: true });
  const pages = mainPages(data).filter((p) => SHOWN.has(p.name));
  const people = new Map<string | null, Page>();
  for (const as of new Set(pages.map((p) => p.as))) {
    const context = await browser.newContext({ locale: 'en-GB', timezoneId: 'Europe/Paris', viewport: { width: WIDTHS[0]!, height: 844 } });
    const page = await context.newPage();
    if (as) await signInAs(h, page, as);
    people.set(as, page);
  }
  for (const width of WIDTHS) {
    for (const { name, path: pagePath, as } of pages) {
      const page = people.get(as)!;
      await page.setViewportSize({ width, height: width < 600 ? 844 : 900 });
      await page.goto(`${h.baseUrl}${pagePath}`);
      if (name === 'compose') await composeSomething(page);
      const file = path.join(OUT_DIR, `${name}-${width}.png`);
      await page.screenshot({ path: file, fullPage: true });
      console.log(path.relative(process.cwd(), file));
    }
  }
} finally {
  await browser.close();
  await h.stop();
}
