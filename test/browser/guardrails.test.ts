/// <reference lib="dom" />
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/browser.js';
import { signInAs } from '../support/console-pages.js';
import { Harness, people } from '../support/harness.js';

describe('guardrails in Chromium', () => {
  let h: Harness;
  let browser: Browser;

  beforeAll(async () => {
    h = await Harness.start({ env: { HOLD_WINDOW_SECONDS: '0', FIRST_WAVE_HOLD_MINUTES: '10' } });
    await h.addAuthorAndApprovers();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await h?.stop();
  });

  async function signedIn(key: string): Promise<Page> {
    const page = await (await browser.newContext({ timezoneId: 'Europe/Paris' })).newPage();
    await signInAs(h, page, key);
    return page;
  }

  it('sends an approver a [Test] copy as the recipient they searched for, to them only, and nothing to the ledger', async () => {
    const staff = people(40, 'staff');
    const id = await h.createCampaign({
      subject: 'Travel rules',
      body: 'Hello {{firstName}}, the travel rules change on Monday.',
      recipients: staff,
    });
    await h.submitCampaign(id);
    await h.sink.waitUntil(() => h.approvalLinks('Travel rules').size === 2, 30_000, 'approval requests');
    const alice = await signedIn('alice');
    await alice.goto(h.approvalLinks('Travel rules').get(h.users.alice!.email)!);

    const chosen = staff[17]!;
    await alice.getByLabel(/Rendered as this recipient gets it/).fill(chosen.email.split('@')[0]!);
    await alice.getByRole('button', { name: 'Send a test to me' }).click();
    await expect.poll(() => alice.getByRole('status').first().textContent()).toContain(`A test went to ${h.users.alice!.email}`);

    await h.sink.waitUntil(() => h.sink.withSubject('[Test] Travel rules').length === 1, 30_000, 'the test message');
    const [test] = h.sink.withSubject('[Test] Travel rules');
    expect(test!.envelopeTo).toEqual([h.users.alice!.email]);
    expect(test!.parsed.headers.get('x-countersign-test')).toBeTruthy();
    expect(test!.parsed.text).toContain(`Hello ${chosen.name.split(' ')[0]}, the travel rules change on Monday.`);
    expect(h.sink.withSubject(/Travel rules/).filter((m) => staff.some((p) => m.envelopeTo.includes(p.email)))).toEqual([]);
    expect((await h.api('author', 'GET', `/campaigns/${id}`)).body.status).toBe('pending_approval');
    expect(await h.db.selectFrom('deliveries').select('seq').where('campaign_id', '=', id).execute()).toEqual([]);
  });

  it('sends the author a test of the saved draft from the compose page, and names a search that matches nobody', async () => {
    const id = await h.createCampaign({
      subject: 'Parking permits',
      body: 'Hello {{firstName}}, renew your parking permit.',
      recipients: people(5, 'park'),
    });
    const author = await signedIn('author');
    await author.goto(`${h.baseUrl}/campaigns/${id}/edit`);
    await author.getByLabel(/Rendered as this recipient gets it/).fill('nobody-matches');
    await author.getByRole('button', { name: 'Send a test to me' }).click();
    await expect.poll(() => author.locator('#test-error').textContent()).toContain('no recipient');

    await author.getByLabel(/Rendered as this recipient gets it/).fill('park0003');
    await author.getByRole('button', { name: 'Send a test to me' }).click();
    await expect
      .poll(() => author.getByRole('status').first().textContent())
      .toContain(`A test went to ${h.users.author!.email}, as park0003@`);
    await h.sink.waitUntil(() => h.sink.withSubject('[Test] Parking permits').length === 1, 30_000, 'the test message');
    expect(h.sink.withSubject(/Parking permits/).map((m) => m.envelopeTo)).toEqual([[h.users.author!.email]]);
    expect((await h.api('author', 'GET', `/campaigns/${id}`)).body.status).toBe('draft');
  });

  it('shows the pause after a first wave with its countdown, and an approver continues it from the page', async () => {
    const { id } = await h.approvedCampaign({
      subject: 'Badge update',
      body: 'Hello {{firstName}}, update your badge.',
      recipients: people(60, 'badge'),
      firstWave: { count: 6 },
    });
    await h.until(
      () => h.api('alice', 'GET', `/campaigns/${id}`),
      (r) => r.body.wave?.stage === 'paused',
      'the pause after the first wave',
    );
    const alice = await signedIn('alice');
    await alice.goto(`${h.baseUrl}/campaigns/${id}`);
    const wave = alice.getByTestId('wave');
    await expect.poll(() => wave.textContent()).toMatch(/Paused after the first wave of 6\..*\(in (9|10) min \d+ s\)/s);
    expect(h.sink.withSubject('Badge update')).toHaveLength(6);

    alice.once('dialog', (dialog) => void dialog.accept());
    await alice.getByRole('button', { name: 'Continue now' }).click();
    await expect.poll(() => alice.getByRole('status').first().textContent()).toContain('Continuing');
    await h.waitForStatus(id, 'sent', 60_000);
    expect(new Set(h.sink.withSubject('Badge update').map((m) => m.envelopeTo[0])).size).toBe(60);
    expect(h.sink.withSubject('Badge update')).toHaveLength(60);
  });
});
