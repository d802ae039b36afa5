/// <reference lib="dom" />
import { readFile } from 'node:fs/promises';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import {
  buttonsUnreachableByKeyboard,
  launchChromium,
  pageWidth,
  screenshot,
  seriousAccessibilityProblems,
  unlabelledControls,
} from '../support/browser.js';
import { Harness, people } from '../support/harness.js';

/** A message to `address` waits inside its SMTP transaction until the test lets go of it. */
class Holds {
  readonly #held = new Map<string, { promise: Promise<void>; release: () => void }>();
  hold(address: string): () => void {
    let release = () => {};
    const promise = new Promise<void>((resolve) => (release = resolve));
    this.#held.set(address, { promise, release });
    return release;
  }
  get = (address: string) => this.#held.get(address)?.promise;
  releaseAll() {
    for (const { release } of this.#held.values()) release();
  }
}

describe('the campaign pages follow the campaign and tell the truth, in Chromium', () => {
  let h: Harness;
  let browser: Browser;
  const holds = new Holds();
  let haltedId: string;
  let haltedLedger: Record<string, number>;
  let releaseHalted: () => void;

  beforeAll(async () => {
    h = await Harness.start({
      sink: { holdData: (address) => holds.get(address) },
      // One delivery slot: while a held message waits at the relay, the windows after it stay unclaimed.
      env: { HOLD_WINDOW_SECONDS: '0', SMTP_MAX_CONNECTIONS: '3', WORKER_CONCURRENCY: '1', DELIVERY_BATCH_SIZE: '20' },
    });
    await h.addAuthorAndApprovers();
    browser = await launchChromium();
  });
  // Whatever the pages swap in live must pass the Content-Security-Policy too: every page reports what it refused.
  const refusals: string[] = [];
  afterEach(() => {
    expect(refusals.splice(0)).toEqual([]);
  });
  afterAll(async () => {
    holds.releaseAll();
    await browser?.close();
    await h?.stop();
  });

  const contexts = new Map<string, BrowserContext>();
  /** A browser page signed in as `key`: the session a sign-in link gives, in a context of that person's own. */
  async function pageAs(key: string): Promise<Page> {
    if (!contexts.has(key)) {
      const client = await h.signIn(key);
      // Readers in India (UTC+5:30) with 24-hour clocks: times of day must be theirs, not the server's UTC.
      const context = await browser.newContext({ acceptDownloads: true, timezoneId: 'Asia/Kolkata', locale: 'en-GB' });
      await context.addCookies([...client.cookies].map(([name, value]) => ({ name, value, url: h.baseUrl })));
      contexts.set(key, context);
    }
    const page = await contexts.get(key)!.newPage();
    page.setDefaultTimeout(15_000);
    page.on('dialog', (dialog) => void dialog.accept());
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) refusals.push(`${page.url()}: ${message.text()}`);
    });
    return page;
  }

  const ledgerOf = async (id: string) => (await h.api('author', 'GET', `/campaigns/${id}`)).body.deliveries as Record<string, number>;
  const countOnPage = (page: Page, key: string) =>
    page
      .locator(`[data-count="${key}"]`)
      .textContent()
      .then((t) => Number(t!.replace(/,/g, '')));

  it('a page left open on a pending campaign follows it to scheduled, sending and sent without a reload', async () => {
    const release = holds.hold('live0000@corp.example.com');
    // A failure must not leave the one delivery slot waiting on the held message.
    onTestFinished(release);
    const id = await h.createCampaign({ subject: 'Live follow', recipients: people(6, 'live') });
    const contentHash = await h.submitCampaign(id);

    const page = await pageAs('author');
    await page.goto(`${h.baseUrl}/campaigns/${id}`);
    await page.locator('[data-fragment="status"]').filter({ hasText: 'pending approval' }).waitFor();
    // Marks this document, and records every status the page shows: a reload would lose both.
    await page.evaluate(() => {
      const seen = [document.querySelector('[data-fragment="status"]')!.textContent!.trim()];
      Object.assign(window, { sameDocument: true, seenStatuses: seen });
      new MutationObserver(() => {
        const now = document.querySelector('[data-fragment="status"]')!.textContent!.trim();
        if (seen.at(-1) !== now) seen.push(now);
      }).observe(document.querySelector('[data-fragment="status"]')!, { childList: true, subtree: true, characterData: true });
    });

    await h.approveCampaign(id, contentHash, ['alice']);
    await page.getByTestId('approvals-count').filter({ hasText: '1 of 2' }).waitFor();
    expect(await page.locator('[data-fragment="status"]').textContent()).toBe('pending approval');
    // The queue that starts sends is paused until the page has shown the campaign scheduled.
    await h.ctx.queues.dispatch.pause();
    try {
      await h.approveCampaign(id, contentHash, ['bob']);
      await page.locator('[data-fragment="status"]').filter({ hasText: 'scheduled' }).waitFor();
      await page.getByRole('button', { name: 'Halt now' }).waitFor();
    } finally {
      await h.ctx.queues.dispatch.resume();
    }

    // It starts; one message is held at the relay, so the page shows it sending with one in flight.
    await page.locator('[data-fragment="status"]').filter({ hasText: 'sending' }).waitFor();
    await page.waitForFunction(() => document.querySelector('[data-count="inFlight"]')?.textContent === '1');
    release();
    await page
      .locator('[data-fragment="status"]')
      .filter({ hasText: /^sent$/ })
      .waitFor();
    await page.getByTestId('progress-percent').filter({ hasText: '100%' }).waitFor();
    expect(await countOnPage(page, 'sent')).toBe(6);
    expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);
    expect(await page.evaluate(() => (window as unknown as { seenStatuses: string[] }).seenStatuses)).toEqual([
      'pending approval',
      'scheduled',
      'sending',
      'sent',
    ]);
    // Followed live, the audit trail says what happened in sentences.
    const trail = await page.getByTestId('audit-trail').textContent();
    expect(trail).toContain('Alice Tester approved it through the API.');
    expect(trail).toContain('Sending finished: 6 sent.');
  });

  it('a halted campaign shows sent, stopped and in flight apart, with the numbers the ledger has', async () => {
    releaseHalted = holds.hold('hold0@corp.example.com');
    onTestFinished(releaseHalted);
    const recipients = [...people(30, 'early'), { email: 'hold0@corp.example.com', name: 'Hold 0' }, ...people(40, 'late')];
    const { id } = await h.approvedCampaign({ subject: 'Halted midway', recipients });
    haltedId = id;
    await h.sink.waitUntil(() => h.sink.withSubject('Halted midway').length >= 30, 30_000, 'the early recipients');
    const halted = await h.api('bob', 'POST', `/campaigns/${id}/halt`, { reason: 'wrong list' });
    expect(halted.status).toBe(200);
    const { inFlight, stopped } = halted.body as { inFlight: number; stopped: number };
    expect(stopped).toBeGreaterThan(0);
    // What was in flight at the halt lands, except the held message; what was stopped stays stopped.
    haltedLedger = await h.until(
      () => ledgerOf(id),
      (counts) => counts.queued === 0 && counts.sending === 1,
      'the halted rows to be rewritten',
    );
    expect(haltedLedger).toMatchObject({ halted: stopped, sent: recipients.length - stopped - 1 });

    const page = await pageAs('author');
    await page.goto(`${h.baseUrl}/campaigns/${id}`);
    expect(await countOnPage(page, 'sent')).toBe(haltedLedger.sent);
    expect(await countOnPage(page, 'stopped')).toBe(haltedLedger.halted);
    expect(await countOnPage(page, 'inFlight')).toBe(1);
    expect(await countOnPage(page, 'waiting')).toBe(0);
    expect(await page.locator('.facts').first().textContent()).toContain('Hold windownone: it goes as soon as it is approved');
    const percent = Math.floor((haltedLedger.sent! / recipients.length) * 100);
    expect(await page.getByTestId('progress-percent').textContent()).toBe(`${percent}%`);
    expect(await page.getByTestId('progress-summary').textContent()).toBe(
      `Halted: ${haltedLedger.sent} of ${recipients.length} sent; ${haltedLedger.halted} stopped by the halt, 1 in flight.`,
    );
    // The bar: green only for what was sent; the stopped part drawn apart, in its own colour.
    const widths = await page
      .locator('.progress [data-segment]')
      .evaluateAll((segments) =>
        Object.fromEntries(
          segments.map((s) => [
            s.getAttribute('data-segment'),
            [s.getBoundingClientRect().width / s.parentElement!.getBoundingClientRect().width, getComputedStyle(s).backgroundColor],
          ]),
        ),
      );
    expect(widths.sent![0]).toBeCloseTo(haltedLedger.sent! / recipients.length, 2);
    expect(widths.stopped![0]).toBeCloseTo(haltedLedger.halted! / recipients.length, 2);
    expect(widths.stopped![1]).not.toBe(widths.sent![1]);
    // Approvals voided by the halt say so, and the trail names who halted it and what it stopped.
    expect(await page.getByTestId('voided').allTextContents()).toEqual(
      Array(2).fill('(voided by the halt: only a fresh approval resumes it)'),
    );
    const trail = page.getByTestId('audit-trail');
    await trail
      .getByText(
        `Bob Tester halted it: “wrong list”. ${stopped} deliveries were stopped; ${inFlight} ${inFlight === 1 ? 'was' : 'were'} already in flight.`,
      )
      .waitFor();
    const details = trail.locator('li', { hasText: 'Bob Tester halted it' }).locator('details');
    expect(await details.locator('pre').isVisible()).toBe(false);
    await details.locator('summary').click();
    expect(JSON.parse((await details.locator('pre').textContent())!)).toMatchObject({ reason: 'wrong list', inFlight, stopped });

    // The chart counts what the ledger says was sent, and follows the held message as it lands.
    const chart = page.getByTestId('delivery-chart');
    expect(Number(await chart.getAttribute('data-total-sent'))).toBe(haltedLedger.sent);
    const barSum = () =>
      page.locator('[data-bucket]').evaluateAll((bars) => bars.reduce((sum, bar) => sum + Number(bar.getAttribute('data-sent')), 0));
    expect(await barSum()).toBe(haltedLedger.sent);
    // Its scale and each bar's label read in the reader's zone.
    const lastBucket = new Date((await page.locator('[data-bucket]').last().getAttribute('data-bucket'))!);
    const kolkata = new Date(lastBucket.getTime() + 330 * 60_000).toISOString().slice(11, 19);
    expect(await chart.locator('text.tick').last().textContent()).toBe(`${kolkata} GMT+5:30`);
    expect(await page.locator('[data-bucket] title').last().textContent()).toMatch(
      new RegExp(`^${kolkata} GMT\\+5:30: \\d+ sent, 0 failed, 0 unknown$`),
    );
    expect(await chart.locator('figcaption').textContent()).toContain(`to ${kolkata} GMT+5:30.`);
    await screenshot(page, 'campaign-halted-breakdown');
    expect(await seriousAccessibilityProblems(page)).toEqual([]);
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await pageWidth(page)).toBeLessThanOrEqual(390);
    await page.setViewportSize({ width: 1280, height: 720 });
    releaseHalted();
    await page.waitForFunction(() => document.querySelector('[data-count="inFlight"]')?.textContent === '0');
    expect(await countOnPage(page, 'sent')).toBe(haltedLedger.sent! + 1);
    expect(Number(await page.getByTestId('delivery-chart').getAttribute('data-total-sent'))).toBe(haltedLedger.sent! + 1);
    expect(await barSum()).toBe(haltedLedger.sent! + 1);
  });

  it('the deliveries page searches, filters and pages the ledger, and its CSV downloads with the browser session', async () => {
    const ledger = await h.until(
      () => ledgerOf(haltedId),
      (counts) => counts.sending === 0,
      'the held message to land',
    );
    const page = await pageAs('alice');
    await page.goto(`${h.baseUrl}/campaigns/${haltedId}`);
    await page.getByRole('link', { name: 'Every recipient’s delivery' }).click();
    const rows = page.getByTestId('deliveries').locator('tbody tr');
    expect(await rows.count()).toBe(50);
    expect(await unlabelledControls(page)).toEqual([]);
    expect(await buttonsUnreachableByKeyboard(page)).toEqual([]);
    await page.getByRole('link', { name: 'Next 50 →' }).click();
    expect(await rows.count()).toBe(71 - 50);
    expect(await rows.first().locator('td').first().textContent()).toBe('51');

    await page.getByRole('link', { name: '← First page' }).click();
    await page.getByLabel('Address contains').fill('LATE001');
    await page.getByRole('button', { name: 'Find' }).click();
    expect(await rows.locator('td:nth-child(2)').allTextContents()).toEqual(
      Array.from({ length: 10 }, (_, i) => `late ${10 + i} <late00${10 + i}@corp.example.com>`),
    );

    await page.getByLabel('Address contains').fill('');
    await page.getByLabel('Status').selectOption('halted');
    await page.getByRole('button', { name: 'Find' }).click();
    const stoppedShown = Math.min(50, ledger.halted!);
    expect(await rows.count()).toBe(stoppedShown);
    expect(new Set(await rows.locator('td:nth-child(3)').allTextContents())).toEqual(new Set(['stopped by the halt']));

    const download = page.waitForEvent('download');
    await page.getByTestId('csv-link').click();
    const csv = (await readFile((await (await download).path())!, 'utf8')).trim().split('\n');
    expect(csv[0]).toBe('seq,email,name,status,messageId,attempts,smtpResponse,claimedAt,finishedAt');
    expect(csv).toHaveLength(1 + ledger.halted!);
    expect(csv.slice(1).every((line) => line.split(',')[3] === 'halted')).toBe(true);

    await page.getByLabel('Address contains').fill('nobody-like-this');
    await page.getByRole('button', { name: 'Find' }).click();
    expect(await page.getByTestId('empty-state').textContent()).toMatch(
      /^No deliveries match “nobody-like-this” with the status stopped by the halt\. Clear the search/,
    );
    await screenshot(page, 'deliveries');
  });

  it('the campaign list searches subjects, filters by status, kind and author, and pages past 100', async () => {
    await h.addUser('dee', ['author']);
    const dee = await h.createCampaign({ subject: 'From Dee', recipients: people(1, 'dee') }, 'dee');
    const recall = await h.api('author', 'POST', `/campaigns/${haltedId}/recall`, { note: 'Ignore the earlier message.' });
    expect(recall.status).toBe(201);
    // 105 drafts at once, through the harness: the list's paging is what is under test, not 105 flows.
    const now = Date.now();
    await h.db
      .insertInto('campaigns')
      .values(
        Array.from({ length: 105 }, (_, i) => ({
          id: `bulk-${String(i).padStart(3, '0')}`,
          kind: 'policy' as const,
          status: 'draft' as const,
          subject: `Bulk draft ${String(i).padStart(3, '0')}`,
          body_markdown: 'Hello',
          from_address: 'comms@corp.example.com',
          from_name: 'Comms',
          audience: JSON.stringify({ listIds: [], recipients: [] }),
          required_approvals: 2,
          author_id: h.users.author!.id,
          created_at: new Date(now + i * 1000),
          updated_at: new Date(now + i * 1000),
        })),
      )
      .execute();

    const page = await pageAs('author');
    await page.goto(h.baseUrl);
    const total = 105 + 4;
    expect(await page.getByTestId('list-range').textContent()).toBe(`1–50 of ${total}`);
    // Newest first: the last bulk draft heads the list.
    expect(await page.locator('tbody tr').first().locator('td').first().textContent()).toBe('Bulk draft 104');

    await page.getByLabel('Subject contains').fill('bulk draft');
    await page.getByRole('button', { name: 'Find' }).click();
    expect(await page.getByTestId('list-range').textContent()).toBe('1–50 of 105');
    await page.getByRole('link', { name: 'Older →' }).click();
    await page.getByRole('link', { name: 'Older →' }).click();
    expect(await page.getByTestId('list-range').textContent()).toBe('101–105 of 105');
    expect(await page.locator('tbody tr td:first-child').allTextContents()).toEqual([
      'Bulk draft 004',
      'Bulk draft 003',
      'Bulk draft 002',
      'Bulk draft 001',
      'Bulk draft 000',
    ]);
    expect(await page.getByRole('link', { name: 'Older →' }).count()).toBe(0);
    await page.getByRole('link', { name: '← Newer' }).click();
    expect(await page.getByTestId('list-range').textContent()).toBe('51–100 of 105');

    const subjects = () => page.locator('tbody tr td:first-child a').allTextContents();
    await page.goto(h.baseUrl);
    await page.getByLabel('Kind').selectOption('correction');
    await page.getByRole('button', { name: 'Find' }).click();
    expect(await subjects()).toEqual(['Re: Halted midway']);
    await page.getByLabel('Kind').selectOption('');
    await page.getByLabel('Status').selectOption('halted');
    await page.getByRole('button', { name: 'Find' }).click();
    expect(await subjects()).toEqual(['Halted midway']);
    // The halted row's bar and words: sent and stopped, not "100% done".
    expect(await page.locator('tbody tr').first().textContent()).toMatch(/halted.*71.*0 of 2.*\d+% sent/s);
    await page.getByLabel('Status').selectOption('');
    await page.getByLabel('Author').selectOption({ label: 'Dee Tester' });
    await page.getByRole('button', { name: 'Find' }).click();
    expect(await subjects()).toEqual(['From Dee']);
    expect(new URL(page.url()).searchParams.get('author')).toBe(h.users.dee!.id);
    expect(dee).toBeTruthy();

    await page.getByLabel('Subject contains').fill('nothing is called this');
    await page.getByRole('button', { name: 'Find' }).click();
    expect(await page.getByTestId('empty-state').textContent()).toBe(
      'No campaigns match these filters. Clear the filters to see every campaign.',
    );
    await page.getByRole('link', { name: 'Clear the filters' }).click();
    expect(await page.getByTestId('list-range').textContent()).toBe(`1–50 of ${total}`);
    await screenshot(page, 'campaign-list-filters');

    // A draft's deliveries page says what comes next instead of showing an empty table.
    await page.goto(`${h.baseUrl}/campaigns/${dee}/deliveries`);
    expect(await page.getByTestId('empty-state').textContent()).toMatch(/^Nothing has been handed over yet/);
  });
});
