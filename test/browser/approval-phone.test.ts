/// <reference lib="dom" />
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, screenshot } from '../support/browser.js';
import { Harness, people } from '../support/harness.js';

describe('the approval page on a phone', () => {
  let h: Harness;
  let browser: Browser;

  beforeAll(async () => {
    h = await Harness.start({ env: { HOLD_WINDOW_SECONDS: '0' } });
    await h.addAuthorAndApprovers();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await h?.stop();
  });

  it('fits 390 px with no sideways scrolling, and shows the whole message', async () => {
    const body = [
      '# A long policy message',
      '',
      'Hello {{firstName}}, the expenses policy changes on Monday: see https://intranet.example.com/policies/finance/expenses/2026/a-very-long-path-that-does-not-break-by-itself?section=travel&lang=en for every detail.',
      '',
      ...Array.from(
        { length: 12 },
        (_, i) => `${i + 1}. Rule number ${i + 1} of the policy, in a sentence long enough to wrap on a phone screen.`,
      ),
      '',
      '| Item | Limit per night | Receipts |',
      '|------|-----------------|----------|',
      '| Hotel | 150 | always |',
      '| Meals | 25 | above the limit |',
      '',
      'The end of the message.',
    ].join('\n');
    const id = await h.createCampaign({
      subject: 'Expenses policy',
      body,
      recipients: [...people(30, 'staff'), ...people(3, 'contractor', 'partner.example.org')],
    });
    await h.submitCampaign(id);
    await h.sink.waitUntil(() => h.approvalLinks('Expenses policy').size === 2, 30_000, 'approval requests');

    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const page = await context.newPage();
    await page.goto(h.approvalLinks('Expenses policy').get(h.users.alice!.email)!);
    const frame = page.locator('iframe.message');
    await frame.waitFor();
    await page.waitForFunction(() => {
      const iframe = document.querySelector('iframe.message') as HTMLIFrameElement | null;
      const doc = iframe?.contentDocument;
      return !!doc && doc.readyState === 'complete' && iframe!.clientHeight >= doc.documentElement.scrollHeight;
    });

    const widths = await page.evaluate(() => ({ page: document.documentElement.scrollWidth, viewport: window.innerWidth }));
    expect(widths.page).toBeLessThanOrEqual(widths.viewport);
    const message = await page.evaluate(() => {
      const iframe = document.querySelector('iframe.message') as HTMLIFrameElement;
      const doc = iframe.contentDocument!;
      return {
        frameWidth: iframe.clientWidth,
        contentWidth: doc.documentElement.scrollWidth,
        frameHeight: iframe.clientHeight,
        contentHeight: doc.documentElement.scrollHeight,
        text: doc.body.innerText,
      };
    });
    // Nothing of the message is cut off to the right or below: the frame holds all of it.
    expect(message.contentWidth).toBeLessThanOrEqual(message.frameWidth);
    expect(message.frameHeight).toBeGreaterThanOrEqual(message.contentHeight);
    expect(message.text).toContain('The end of the message.');
    await expect(page.getByTestId('inbox-subject').textContent()).resolves.toBe('Expenses policy');
    await page.getByTestId('audience').waitFor();
    await screenshot(page, 'approval-page-phone');
    await context.close();
  });
});
