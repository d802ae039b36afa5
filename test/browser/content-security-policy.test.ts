/// <reference lib="dom" />
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/browser.js';
import { Harness, people } from '../support/harness.js';

describe('the Content-Security-Policy in Chromium', () => {
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

  /** A page that records every refusal the policy makes, in the page or any frame in it. */
  async function watchedPage(): Promise<{ page: Page; refusals: string[] }> {
    const page = await (await browser.newContext()).newPage();
    page.setDefaultTimeout(15_000);
    page.on('dialog', (dialog) => void dialog.accept());
    const refusals: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) refusals.push(`${page.url()}: ${message.text()}`);
    });
    return { page, refusals };
  }

  /** Signs in the way a person on another device does: asks here, types the code from the email. */
  async function signInWithCode(page: Page, key: string): Promise<void> {
    const email = h.users[key]!.email;
    const before = h.sink.to(email).length;
    await page.goto(`${h.baseUrl}/sign-in`);
    await page.getByLabel('Your work email').fill(email);
    await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
    await h.sink.waitUntil(() => h.sink.to(email).length > before, 30_000, 'the sign-in email');
    const code = /^ {4}([A-Z2-9]{4}-[A-Z2-9]{4})$/m.exec(h.sink.to(email).at(-1)!.parsed.text ?? '')![1]!;
    await page.getByLabel('The code from the sign-in email').fill(code);
    await page.getByRole('button', { name: 'Sign in with the code' }).click();
    await page.waitForURL(`${h.baseUrl}/`);
  }

  /** What the message frame shows: its text and the email layout's own background, which only its inline style sets. */
  const frameLook = (page: Page, selector: string) =>
    page
      .frameLocator(selector)
      .locator('body')
      .evaluate((body) => ({ text: body.textContent ?? '', background: getComputedStyle(body).backgroundColor }));

  it('refuses nothing the pages need on the main flows, and message previews keep the look of the email', async () => {
    const { id: sentId } = await h.approvedCampaign({
      subject: 'Sent under the policy',
      body: 'Hello {{firstName}}, **sent**.',
      recipients: people(4, 'sent'),
    });
    await h.waitForStatus(sentId, 'sent');
    const pendingId = await h.createCampaign({
      subject: 'Pending under the policy',
      body: 'Hello {{firstName}}, please review.',
      recipients: people(3, 'pending'),
    });
    await h.submitCampaign(pendingId);
    await h.sink.waitUntil(() => h.approvalLinks('Pending under the policy').size === 2, 30_000, 'approval requests');
    const approvalLink = h.approvalLinks('Pending under the policy').get(h.users.alice!.email)!;

    const { page: author, refusals } = await watchedPage();
    await signInWithCode(author, 'author');
    await author.goto(`${h.baseUrl}/campaigns/${sentId}`);
    expect(await frameLook(author, 'iframe.message')).toEqual({
      text: expect.stringContaining('Hello sent, sent.'),
      background: 'rgb(244, 245, 247)',
    });
    // Progress bars take their width from a data attribute, as the policy refuses style attributes.
    const filled = (bar: Element) => bar.getBoundingClientRect().width / bar.parentElement!.getBoundingClientRect().width;
    expect(await author.locator('#progress-bar').evaluate(filled)).toBeCloseTo(1, 2);
    await author.goto(h.baseUrl);
    expect(
      await author
        .getByRole('row', { name: /Pending under the policy/ })
        .locator('.progress > span')
        .evaluate(filled),
    ).toBe(0);
    expect(
      await author
        .getByRole('row', { name: /Sent under the policy/ })
        .locator('.progress > span')
        .evaluate(filled),
    ).toBeCloseTo(1, 2);
    await author.goto(`${h.baseUrl}/campaigns/new`);
    await author.getByLabel('Subject').fill('Draft under the policy');
    await author.getByLabel(/^Message/).fill('Hello {{firstName}}, a draft.');
    await author.getByLabel(/More recipients/).fill('draft0@corp.example.com');
    await author.frameLocator('#preview').locator('p', { hasText: 'a draft.' }).waitFor();
    expect((await frameLook(author, '#preview')).background).toBe('rgb(244, 245, 247)');
    for (const path of ['/', '/lists', '/admin', `/campaigns/${sentId}/recall`, '/no-such-page']) await author.goto(`${h.baseUrl}${path}`);

    const { page: alice, refusals: aliceRefusals } = await watchedPage();
    await alice.goto(approvalLink);
    await alice.getByRole('link', { name: 'Sign in to decide' }).click();
    await alice.goto(`${h.baseUrl}/sign-in/code`);
    await signInWithCode(alice, 'alice');
    await alice.goto(approvalLink);
    expect(await frameLook(alice, 'iframe.message')).toEqual({
      text: expect.stringContaining('Hello pending, please review.'),
      background: 'rgb(244, 245, 247)',
    });
    // The frame is as tall as the message: the script that fits it ran.
    expect(await alice.locator('iframe.message').evaluate((frame) => frame.getBoundingClientRect().height)).toBeGreaterThan(100);

    expect([...refusals, ...aliceRefusals]).toEqual([]);
  });
});
