/// <reference lib="dom" />
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness } from '../support/harness.js';
import { buttonsUnreachableByKeyboard, launchChromium, screenshot, unlabelledControls } from '../support/browser.js';

const SIGN_IN_SUBJECT = 'Your Countersign sign-in link';

describe('the web console in Chromium', () => {
  let h: Harness;
  let browser: Browser;
  let listId: string;
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));

  beforeAll(async () => {
    h = await Harness.start({
      // One recipient stays inside its SMTP transaction until the test lets go: a send still in progress.
      sink: { holdData: (address) => (address === 'hold0@corp.example.com' ? held : undefined) },
      env: { HOLD_WINDOW_SECONDS: '0', SMTP_MAX_CONNECTIONS: '3', WORKER_CONCURRENCY: '2', DELIVERY_BATCH_SIZE: '20' },
    });
    await h.addAuthorAndApprovers();
    await h.addUser('admin', ['admin', 'approver']);
    const list = await h.api('author', 'POST', '/lists', { name: 'Finance team' });
    listId = list.body.id;
    const csv = ['email,name,desk', ...Array.from({ length: 120 }, (_, i) => `fin${i}@corp.example.com,Person${i} Fin,Desk ${i}`)].join('\n');
    await h.api('author', 'POST', `/lists/${listId}/members`, csv, { 'content-type': 'text/csv' });
    browser = await launchChromium();
  });
  afterAll(async () => {
    release();
    await browser?.close();
    await h?.stop();
  });

  const signInEmails = (email: string) => h.sink.to(email).filter((m) => m.parsed.subject === SIGN_IN_SUBJECT);
  const linkIn = (text: string | undefined, path: string) => new RegExp(`(https?://\\S+/${path}/[A-Za-z0-9_-]+)`).exec(text ?? '')![1]!;

  /** Signs in through the emailed link, the way a person does, in this browser context. */
  async function signIn(page: Page, key: string, returnTo = '/'): Promise<void> {
    const email = h.users[key]!.email;
    const before = signInEmails(email).length;
    await page.goto(`${h.baseUrl}/sign-in?returnTo=${encodeURIComponent(returnTo)}`);
    await page.getByLabel('Your work email').fill(email);
    await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
    await page.getByTestId('sign-in-sent').waitFor();
    await h.sink.waitUntil(() => signInEmails(email).length > before, 30_000, 'sign-in email');
    await page.goto(linkIn(signInEmails(email).at(-1)!.parsed.text, 'sign-in'));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((url) => url.pathname === returnTo.split('?')[0]);
  }

  async function newPage(context?: BrowserContext): Promise<Page> {
    const page = await (context ?? (await browser.newContext())).newPage();
    page.on('dialog', (dialog) => void dialog.accept());
    page.setDefaultTimeout(15_000);
    return page;
  }

  it('an author composes and submits, two approvers approve from their emails, and the author watches it reach 100%', async () => {
    const author = await newPage();
    await signIn(author, 'author');
    await author.getByRole('link', { name: 'New campaign' }).click();
    await author.getByLabel('Subject').fill('Quarter close for {{firstName}}');
    await author.getByLabel(/^Message/).fill('# Quarter close\n\nHello {{firstName}}, please file expenses by Friday ({{desk}}).');
    await author.getByLabel(/Finance team/).check();
    await author.getByTestId('audience-count').filter({ hasText: '120' }).waitFor();
    await author.frameLocator('#preview').getByText('Hello Person0, please file expenses by Friday (Desk 0).').waitFor();
    await screenshot(author, 'compose');
    await author.getByRole('button', { name: 'Save draft' }).click();
    await author.getByText('Draft saved.').waitFor();
    await author.getByRole('button', { name: 'Submit for approval' }).click();
    await author.getByText('Submitted: the approvers have been emailed').waitFor();
    const campaignUrl = author.url().split('?')[0]!;

    await h.sink.waitUntil(() => h.approvalLinks('Quarter close for {{firstName}}').size === 3, 30_000, 'approval requests');
    const links = h.approvalLinks('Quarter close for {{firstName}}');
    for (const key of ['alice', 'bob']) {
      const approver = await newPage();
      const link = links.get(h.users[key]!.email)!;
      await approver.goto(link);
      await approver.getByText('Sign in as them to approve or reject').waitFor();
      if (key === 'alice') await screenshot(approver, 'approval-signed-out');
      await approver.getByRole('link', { name: 'Sign in to decide' }).click();
      expect(await approver.getByLabel('Your work email').inputValue()).toBe(h.users[key]!.email);
      const path = new URL(link).pathname;
      await signIn(approver, key, path);
      await approver.getByTestId('recipient-count').filter({ hasText: '120' }).waitFor();
      if (key === 'alice') await screenshot(approver, 'approval-page');
      await approver.getByLabel(/type the number of recipients/).fill('120');
      await approver.getByRole('button', { name: 'Approve' }).click();
      await approver.getByText('Your decision is recorded').waitFor();
    }

    await author.goto(campaignUrl);
    await author.waitForFunction(() => document.getElementById('progress-percent')?.textContent === '100%', null, { timeout: 60_000 });
    await author.getByText('sent', { exact: true }).first().waitFor();
    await screenshot(author, 'campaign-sent');
    expect(h.sink.withSubject(/^Quarter close for /)).toHaveLength(120);
    await author.goto(h.baseUrl);
    await screenshot(author, 'campaign-list');
    expect(await author.getByRole('row', { name: /Quarter close/ }).textContent()).toMatch(/sent.*120.*2 of 2.*100%/s);
  });

  it('a link scanner that opens links and submits every form changes nothing, and the real links still work', async () => {
    const created = await h.api('author', 'POST', '/campaigns', { subject: 'Scanner bait', body: 'Hello {{firstName}}', audience: { listIds: [listId] } });
    await h.api('author', 'POST', `/campaigns/${created.body.id}/submit`);
    await h.sink.waitUntil(() => h.approvalLinks('Scanner bait').size === 3, 30_000, 'approval requests');
    const approvalLink = h.approvalLinks('Scanner bait').get(h.users.alice!.email)!;

    // Alice asks to sign in from her own browser; the email arrives.
    const alice = await newPage();
    const earlier = signInEmails(h.users.alice!.email).length;
    await alice.goto(`${h.baseUrl}/sign-in`);
    await alice.getByLabel('Your work email').fill(h.users.alice!.email);
    await alice.getByRole('button', { name: 'Email me a sign-in link' }).click();
    await h.sink.waitUntil(() => signInEmails(h.users.alice!.email).length > earlier, 30_000, 'sign-in email');
    const signInLink = linkIn(signInEmails(h.users.alice!.email).at(-1)!.parsed.text, 'sign-in');

    // Scanner one: a plain GET (and HEAD) of each link.
    for (const link of [approvalLink, signInLink]) {
      expect((await fetch(link)).status).toBe(200);
      expect((await fetch(link, { method: 'HEAD' })).status).toBe(200);
    }
    // Scanner two: a headless browser of its own that submits every form it finds.
    const scanner = await newPage();
    for (const link of [signInLink, approvalLink]) {
      await scanner.goto(link);
      const forms = await scanner.$$eval('form', (all) => all.length);
      for (let i = 0; i < forms; i++) {
        await scanner.goto(link);
        await Promise.all([
          scanner.waitForEvent('load'),
          scanner.evaluate((index) => {
            const form = document.forms[index]!;
            form.querySelectorAll('input:not([type=hidden]), textarea').forEach((el) => {
              const input = el as HTMLInputElement;
              if (!input.value) input.value = '1';
            });
            form.requestSubmit();
          }, i),
        ]);
      }
    }
    const state = await h.api('author', 'GET', `/campaigns/${created.body.id}`);
    expect(state.body).toMatchObject({ status: 'pending_approval', approvals: { approved: 0 } });
    expect(state.body.decisions).toEqual([]);
    const openings = await h.db.selectFrom('approval_link_openings').select(['method', 'user_agent']).execute();
    expect(openings.filter((o) => o.method === 'HEAD').length).toBeGreaterThan(0);

    // The real person, in the browser that asked, signs in with the same link and decides.
    await alice.goto(signInLink);
    await alice.getByRole('button', { name: 'Sign in' }).click();
    await alice.waitForURL(`${h.baseUrl}/`);
    await alice.goto(approvalLink);
    await alice.getByLabel(/type the number of recipients/).fill('120');
    await alice.getByRole('button', { name: 'Approve' }).click();
    await alice.getByText('Your decision is recorded').waitFor();
    expect((await h.api('author', 'GET', `/campaigns/${created.body.id}`)).body.approvals.approved).toBe(1);
  });

  it('halts and recalls through the buttons, showing the correction reach before confirming', async () => {
    const recipients = [...Array.from({ length: 30 }, (_, i) => ({ email: `early${String(i).padStart(2, '0')}@corp.example.com`, name: `Early ${i}` })), { email: 'hold0@corp.example.com', name: 'Hold 0' }, ...Array.from({ length: 40 }, (_, i) => ({ email: `late${i}@corp.example.com`, name: `Late ${i}` }))];
    const created = await h.api('author', 'POST', '/campaigns', { subject: 'Delete the app', body: 'Hello {{firstName}}, delete the app today.', audience: { recipients } });
    const submitted = await h.api('author', 'POST', `/campaigns/${created.body.id}/submit`);
    await h.api('alice', 'POST', `/campaigns/${created.body.id}/approve`, { contentHash: submitted.body.contentHash });
    await h.api('bob', 'POST', `/campaigns/${created.body.id}/approve`, { contentHash: submitted.body.contentHash });
    await h.sink.waitUntil(() => h.sink.withSubject('Delete the app').length >= 30, 30_000, 'the early recipients');

    const author = await newPage();
    await signIn(author, 'author', `/campaigns/${created.body.id}`);
    await author.getByRole('button', { name: 'Halt now' }).click();
    await author.getByText(/^Halted\. \d+ deliveries were already in flight; \d+ were stopped\.$/).waitFor();
    await screenshot(author, 'campaign-halted');

    await author.getByRole('link', { name: 'Recall and correct…' }).click();
    const ledger = (await h.api('author', 'GET', `/campaigns/${created.body.id}`)).body.deliveries;
    expect(await author.getByTestId('correction-reach').textContent()).toBe(String(ledger.sent + ledger.unknown));
    await screenshot(author, 'recall-confirm');
    await author.getByLabel(/A note for the recipients/).fill('Keep the app: the earlier message was wrong.');
    await author.getByRole('button', { name: 'Recall and send the correction for approval' }).click();
    await author.getByText('Correction created and sent to the approvers.').waitFor();
    await author.getByRole('heading', { name: /Re: Delete the app/ }).waitFor();
    await author.getByRole('link', { name: 'Delete the app' }).waitFor();
    release();
  });

  it('labels every form field and lets the keyboard reach every button', async () => {
    const admin = await newPage();
    await signIn(admin, 'admin');
    const campaigns = await h.api('author', 'GET', '/campaigns');
    const pages = ['/', '/lists', `/lists/${listId}`, '/admin', `/campaigns/${campaigns.body.campaigns[0].id}`];
    for (const path of pages) {
      await admin.goto(`${h.baseUrl}${path}`);
      expect(await unlabelledControls(admin), `unlabelled controls on ${path}`).toEqual([]);
      expect(await buttonsUnreachableByKeyboard(admin), `buttons the keyboard cannot reach on ${path}`).toEqual([]);
    }
    await admin.goto(`${h.baseUrl}/admin`);
    await screenshot(admin, 'admin');
    const author = await newPage();
    await signIn(author, 'author', '/campaigns/new');
    expect(await unlabelledControls(author)).toEqual([]);
    expect(await buttonsUnreachableByKeyboard(author)).toEqual([]);
  });

  it('shows the kill switch in the header of every page while engaged', async () => {
    const admin = await newPage();
    await signIn(admin, 'admin', '/admin');
    await admin.getByRole('button', { name: 'Halt everything' }).click();
    await admin.getByTestId('kill-switch-state').filter({ hasText: 'ENGAGED' }).waitFor();
    for (const path of ['/', '/lists', '/campaigns/new', '/admin']) {
      await admin.goto(`${h.baseUrl}${path}`);
      await admin.getByTestId('kill-switch-banner').waitFor();
    }
    await screenshot(admin, 'kill-switch');
    await admin.goto(`${h.baseUrl}/admin`);
    await admin.getByRole('button', { name: 'Release the kill switch' }).click();
    await admin.getByTestId('kill-switch-state').filter({ hasText: 'off' }).waitFor();
    expect(await admin.getByTestId('kill-switch-banner').count()).toBe(0);
  });
});
