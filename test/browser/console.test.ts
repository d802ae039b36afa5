/// <reference lib="dom" />
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness } from '../support/harness.js';
import { buttonsUnreachableByKeyboard, launchChromium, screenshot, unlabelledControls } from '../support/browser.js';
import { describeScan, scan } from '../support/scanner.js';
import { hashToken } from '../../src/services/users.js';

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
      // One delivery slot: while hold0's window waits at the relay, the windows after it stay unclaimed.
      env: { HOLD_WINDOW_SECONDS: '0', SMTP_MAX_CONNECTIONS: '3', WORKER_CONCURRENCY: '1', DELIVERY_BATCH_SIZE: '20' },
    });
    // Every test signs these people in afresh; sign-in allows 5 requests per address and client per 15 minutes,
    // and no address is asked for more than 3 times in this file.
    await h.addAuthorAndApprovers();
    await h.addUser('admin', ['admin', 'approver']);
    const list = await h.api('author', 'POST', '/lists', { name: 'Finance team' });
    listId = list.body.id;
    const csv = ['email,name,desk', ...Array.from({ length: 120 }, (_, i) => `fin${i}@corp.example.com,Person${i} Fin,Desk ${i}`)].join(
      '\n',
    );
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

  /** On the sign-in page: asks for a link, the way a person does, and returns the link that arrives. */
  async function askForSignInLink(page: Page, key: string): Promise<string> {
    const email = h.users[key]!.email;
    const before = signInEmails(email).length;
    await page.getByLabel('Your work email').fill(email);
    await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
    await page.getByTestId('sign-in-sent').waitFor();
    await h.sink.waitUntil(() => signInEmails(email).length > before, 30_000, 'sign-in email');
    return linkIn(signInEmails(email).at(-1)!.parsed.text, 'sign-in');
  }

  /** Signs in through the emailed link, the way a person does, in this browser context. */
  async function signIn(page: Page, key: string, returnTo = '/'): Promise<void> {
    await page.goto(`${h.baseUrl}/sign-in?returnTo=${encodeURIComponent(returnTo)}`);
    await page.goto(await askForSignInLink(page, key));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((url) => url.pathname === returnTo.split('?')[0]);
  }

  /** A campaign of its own, submitted through the API; returns the approval link `approver` was emailed. */
  async function pendingCampaign(subject: string, approver: string): Promise<{ id: string; approvalLink: string }> {
    const recipients = ['ann', 'ben', 'cat'].map((name) => ({ email: `${name}@corp.example.com`, name }));
    const created = await h.api('author', 'POST', '/campaigns', { subject, body: 'Hello {{firstName}}', audience: { recipients } });
    expect((await h.api('author', 'POST', `/campaigns/${created.body.id}/submit`)).status).toBe(200);
    const email = h.users[approver]!.email;
    await h.sink.waitUntil(() => h.approvalLinks(subject).has(email), 30_000, 'the approval request');
    return { id: created.body.id, approvalLink: h.approvalLinks(subject).get(email)! };
  }

  const sessionsOf = (key: string) =>
    h.db.selectFrom('sessions').select(['id', 'revoked_at']).where('user_id', '=', h.users[key]!.id).orderBy('created_at').execute();
  const approvalLinkRow = (campaignId: string, key: string) =>
    h.db
      .selectFrom('approval_links')
      .select(['id', 'consumed_at'])
      .where('campaign_id', '=', campaignId)
      .where('approver_id', '=', h.users[key]!.id)
      .executeTakeFirstOrThrow();
  const signInLinkRow = (link: string) =>
    h.db
      .selectFrom('sign_in_links')
      .select('consumed_at')
      .where('token_hash', '=', hashToken(tokenIn(link)))
      .executeTakeFirstOrThrow();
  const signInRequestsFor = (email: string) => h.db.selectFrom('sign_in_links').select('id').where('email', '=', email).execute();
  /** Waits until the notify worker has taken every queued email. */
  const notificationsSent = () =>
    h.until(
      () => h.ctx.queues.notify.getJobCounts('waiting', 'active', 'delayed', 'prioritized'),
      (counts) => Object.values(counts).every((n) => n === 0),
      'the notify queue to drain',
    );
  const tokenIn = (link: string) => new URL(link).pathname.split('/').at(-1)!;
  /** Puts names in place of the tokens in a scan report's paths, so expectations can be written down. */
  const namer = (tokens: Record<string, string>) => (path: string) =>
    Object.entries(tokens).reduce((named, [name, token]) => named.replaceAll(token, name), path);

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
    await author.frameLocator('#preview').locator('p', { hasText: 'Hello Person0, please file expenses by Friday (Desk 0).' }).waitFor();
    await screenshot(author, 'compose');
    await author.getByRole('button', { name: 'Save draft' }).click();
    await author.getByText('Draft saved.').waitFor();
    await author.getByRole('link', { name: 'Submit for approval…' }).click();
    await author.getByTestId('confirm-count').filter({ hasText: '120' }).waitFor();
    await author.getByRole('button', { name: 'Submit to 120 recipients for approval' }).click();
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
      // The address is typed by the person, never filled in from the link.
      expect(await approver.getByLabel('Your work email').inputValue()).toBe('');
      const path = new URL(link).pathname;
      await signIn(approver, key, path);
      await approver.getByTestId('recipient-count').filter({ hasText: '120' }).waitFor();
      if (key === 'alice') await screenshot(approver, 'approval-page');
      await approver.getByLabel(/type the number of recipients/).fill('120');
      await approver.getByRole('button', { name: 'Approve' }).click();
      await approver.getByText('Your decision is recorded').waitFor();
      // The first of two approvals does not approve the campaign, and the page does not say it does.
      if (key === 'alice') await approver.getByText(/is not approved yet: your approval is 1 of the 2 needed/).waitFor();
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

  it('a link scanner, signed out or signed in as someone else, follows every link and submits every form from both emails an approver gets; nothing is decided or used up, and the approver still approves', async () => {
    const { id, approvalLink } = await pendingCampaign('Scanner bait', 'alice');
    // Alice opens the request, is sent to sign in, and asks for a link in her own browser: her second email.
    const alice = await newPage();
    await alice.goto(approvalLink);
    await alice.getByRole('link', { name: 'Sign in to decide' }).click();
    const signInLink = await askForSignInLink(alice, 'alice');
    const sessionsBefore = await sessionsOf('alice');
    const emailsBefore = signInEmails(h.users.alice!.email).length;

    // The plainest scanners: a GET and a HEAD of each link.
    for (const link of [approvalLink, signInLink]) {
      expect((await fetch(link)).status).toBe(200);
      expect((await fetch(link, { method: 'HEAD' })).status).toBe(200);
    }
    const named = namer({ '<approval>': tokenIn(approvalLink), '<sign-in>': tokenIn(signInLink) });
    // Two scanners at once: one signed out, one in a browser where Bob is signed in.
    const asBob = await browser.newContext();
    const [signedOut, signedInAsBob] = await Promise.all([
      browser.newContext().then((context) => scan(context, [approvalLink, signInLink])),
      newPage(asBob)
        .then((page) => signIn(page, 'bob'))
        .then(() => scan(asBob, [approvalLink, signInLink])),
    ]);

    // Signed out, the approval page has no form: it links to sign-in, whose form is empty: the address is typed.
    const aliceSignIn = '/sign-in?returnTo=%2Fapprove%2F<approval>';
    expect(describeScan(signedOut, named)).toEqual({
      pages: {
        // The only form: the preview's recipient search, a GET that decides nothing.
        '/approve/<approval>': ['GET /approve/<approval> [Show]'],
        '/approve/<approval>?recipient=1': ['GET /approve/<approval> [Show]'],
        '/sign-in/<sign-in>': ['POST /sign-in/<sign-in> [Sign in]'],
        '/ → /sign-in?returnTo=%2F': ['POST /sign-in [Email me a sign-in link]'],
        '/sign-in': ['POST /sign-in [Email me a sign-in link]'],
        [aliceSignIn]: ['POST /sign-in [Email me a sign-in link]'],
        '/sign-in/code': ['POST /sign-in/code [Sign in with the code]'],
      },
      submissions: [
        'Show on /approve/<approval>: GET /approve/<approval> → 200 /approve/<approval>?recipient=1',
        // Not the browser that asked for the link: refused, and the link is not used up.
        'Sign in on /sign-in/<sign-in>: POST /sign-in/<sign-in> → 403 /sign-in/<sign-in>',
        'Email me a sign-in link on /: POST /sign-in → 200 /sign-in',
        // The form asks for an address: the scanner's own made-up one goes in, and nothing is mailed to Alice.
        `Email me a sign-in link on ${aliceSignIn}: POST /sign-in → 200 /sign-in`,
        'Show on /approve/<approval>?recipient=1: GET /approve/<approval> → 200 /approve/<approval>?recipient=1',
        // No code it could type signs this browser in.
        'Sign in with the code on /sign-in/code: POST /sign-in/code → 403 /sign-in/code',
      ],
      notFollowed: [],
    });
    // Signed in as Bob, the approval page has no decide form: it tells him only Alice can decide with her link.
    expect(describeScan(signedInAsBob, named)).toEqual({
      pages: {
        '/approve/<approval> (signed in)': ['POST /sign-out [Sign out]', 'GET /approve/<approval> [Show]'],
        '/approve/<approval>?recipient=1 (signed in)': ['POST /sign-out [Sign out]', 'GET /approve/<approval> [Show]'],
        '/sign-in/<sign-in> (signed in)': ['POST /sign-out [Sign out]', 'POST /sign-in/<sign-in> [Sign in]'],
        '/sign-in (signed in)': ['POST /sign-out [Sign out]', 'POST /sign-in [Email me a sign-in link]'],
        '/sign-in/code (signed in)': ['POST /sign-out [Sign out]', 'POST /sign-in/code [Sign in with the code]'],
      },
      submissions: [
        'Show on /approve/<approval>: GET /approve/<approval> → 200 /approve/<approval>?recipient=1',
        'Sign in on /sign-in/<sign-in>: POST /sign-in/<sign-in> → 403 /sign-in/<sign-in>',
        'Show on /approve/<approval>?recipient=1: GET /approve/<approval> → 200 /approve/<approval>?recipient=1',
        'Email me a sign-in link on /sign-in: POST /sign-in → 200 /sign-in',
        'Sign in with the code on /sign-in/code: POST /sign-in/code → 403 /sign-in/code',
        'Sign out on /approve/<approval>: POST /sign-out → 303 /sign-in',
      ],
      notFollowed: ['/', '/lists', '/admin', '/account'],
    });
    await notificationsSent();

    const campaign = await h.api('author', 'GET', `/campaigns/${id}`);
    expect(campaign.body).toMatchObject({ status: 'pending_approval', approvals: { approved: 0 }, decisions: [] });
    expect(await approvalLinkRow(id, 'alice')).toMatchObject({ consumed_at: null });
    expect(await signInLinkRow(signInLink)).toMatchObject({ consumed_at: null });
    expect(await sessionsOf('alice')).toEqual(sessionsBefore);
    expect(signInEmails(h.users.alice!.email)).toHaveLength(emailsBefore);
    const openings = await h.db
      .selectFrom('approval_link_openings')
      .select('method')
      .where('link_id', '=', (await approvalLinkRow(id, 'alice')).id)
      .execute();
    expect(openings.filter((o) => o.method === 'HEAD')).toHaveLength(1);

    // Alice, in the browser that asked, signs in with the same link, is taken back to the request and approves.
    await alice.goto(signInLink);
    await alice.getByRole('button', { name: 'Sign in' }).click();
    await alice.waitForURL(approvalLink);
    await alice.getByLabel(/type the number of recipients/).fill('3');
    await alice.getByRole('button', { name: 'Approve' }).click();
    await alice.getByText('Your decision is recorded').waitFor();
    expect((await h.api('author', 'GET', `/campaigns/${id}`)).body.approvals).toMatchObject({
      approved: 1,
      approvedBy: [h.users.alice!.id],
    });
  });

  it('a scanner in one cookie jar that submits every form on the approval page, then scans the sign-in email the approver asked for, is never signed in as the approver', async () => {
    const { id, approvalLink } = await pendingCampaign('Scanner in one jar', 'bob');
    const bob = h.users.bob!.email;
    const emailsBefore = signInEmails(bob).length;
    const requestsBefore = (await signInRequestsFor(bob)).length;
    const sessionsBefore = await sessionsOf('bob');
    // A client of its own (behind the trusted proxy), so the sign-in limits other tests' scanners met do not apply.
    const scanner = await browser.newContext({ extraHTTPHeaders: { 'X-Forwarded-For': '192.0.2.99' } });
    const first = describeScan(await scan(scanner, [approvalLink]), namer({ '<approval>': tokenIn(approvalLink) }));
    // The sign-in form on the way asks for an address: the scanner's own made-up one goes in, and nothing is asked for Bob.
    expect(first.submissions).toContain(
      'Email me a sign-in link on /sign-in?returnTo=%2Fapprove%2F<approval>: POST /sign-in → 200 /sign-in',
    );
    await notificationsSent();
    expect(signInEmails(bob)).toHaveLength(emailsBefore);
    expect(await signInRequestsFor(bob)).toHaveLength(requestsBefore);

    // Bob asks for a link in his own browser; the same scanner, same cookie jar, scans that email.
    const bobsBrowser = await newPage();
    await bobsBrowser.goto(approvalLink);
    await bobsBrowser.getByRole('link', { name: 'Sign in to decide' }).click();
    const bobsLink = await askForSignInLink(bobsBrowser, 'bob');
    const code = /^ {4}([A-Z2-9]{4}-[A-Z2-9]{4})$/m.exec(signInEmails(bob).at(-1)!.parsed.text ?? '')![1]!;
    const report = describeScan(
      await scan(scanner, [bobsLink]),
      namer({ '<approval>': tokenIn(approvalLink), '<bobs-sign-in>': tokenIn(bobsLink) }),
    );
    // Fixed (issue 16): the link works only in the browser that asked, which is Bob's, and the
    // scanner never asked for him; no code it types signs its browser in. It stays signed out.
    expect(report).toEqual({
      pages: {
        '/sign-in/<bobs-sign-in>': ['POST /sign-in/<bobs-sign-in> [Sign in]'],
        '/ → /sign-in?returnTo=%2F': ['POST /sign-in [Email me a sign-in link]'],
        '/sign-in': ['POST /sign-in [Email me a sign-in link]'],
        '/sign-in/code': ['POST /sign-in/code [Sign in with the code]'],
      },
      submissions: [
        'Sign in on /sign-in/<bobs-sign-in>: POST /sign-in/<bobs-sign-in> → 403 /sign-in/<bobs-sign-in>',
        'Email me a sign-in link on /: POST /sign-in → 200 /sign-in',
        'Sign in with the code on /sign-in/code: POST /sign-in/code → 403 /sign-in/code',
      ],
      notFollowed: [],
    });
    expect(await sessionsOf('bob')).toEqual(sessionsBefore);
    expect((await h.api('author', 'GET', `/campaigns/${id}`)).body).toMatchObject({
      status: 'pending_approval',
      approvals: { approved: 0 },
      decisions: [],
    });
    expect(await approvalLinkRow(id, 'bob')).toMatchObject({ consumed_at: null });
    expect(await signInLinkRow(bobsLink)).toMatchObject({ consumed_at: null });

    // Bob types the code from the email where he asked, and is back on his request.
    await bobsBrowser.getByLabel('The code from the sign-in email').fill(code);
    await bobsBrowser.getByRole('button', { name: 'Sign in with the code' }).click();
    await bobsBrowser.waitForURL(approvalLink);
    await bobsBrowser.getByLabel(/type the number of recipients/).fill('3');
    await bobsBrowser.getByRole('button', { name: 'Approve' }).click();
    await bobsBrowser.getByText('Your decision is recorded').waitFor();
    expect((await h.api('author', 'GET', `/campaigns/${id}`)).body.approvals).toMatchObject({ approved: 1, approvedBy: [h.users.bob!.id] });
  });

  it('halts and recalls through the buttons, showing the correction reach before confirming', async () => {
    const recipients = [
      ...Array.from({ length: 30 }, (_, i) => ({ email: `early${String(i).padStart(2, '0')}@corp.example.com`, name: `Early ${i}` })),
      { email: 'hold0@corp.example.com', name: 'Hold 0' },
      ...Array.from({ length: 40 }, (_, i) => ({ email: `late${i}@corp.example.com`, name: `Late ${i}` })),
    ];
    const created = await h.api('author', 'POST', '/campaigns', {
      subject: 'Delete the app',
      body: 'Hello {{firstName}}, delete the app today.',
      audience: { recipients },
    });
    const submitted = await h.api('author', 'POST', `/campaigns/${created.body.id}/submit`);
    await h.api('alice', 'POST', `/campaigns/${created.body.id}/approve`, { contentHash: submitted.body.contentHash });
    await h.api('bob', 'POST', `/campaigns/${created.body.id}/approve`, { contentHash: submitted.body.contentHash });
    await h.sink.waitUntil(() => h.sink.withSubject('Delete the app').length >= 30, 30_000, 'the early recipients');

    const author = await newPage();
    await signIn(author, 'author', `/campaigns/${created.body.id}`);
    await author.getByRole('button', { name: 'Halt now' }).click();
    const notice = author.getByText(/^Halted\./);
    await notice.waitFor();
    // The halt's own report, as its audit event keeps it: the page shows exactly those numbers.
    const halts = (await h.api('author', 'GET', `/campaigns/${created.body.id}/audit`)).body.events.filter(
      (e: { action: string }) => e.action === 'campaign.halt',
    );
    expect(halts).toHaveLength(1);
    const { inFlight, stopped } = halts[0].data as { inFlight: number; stopped: number };
    expect(await notice.textContent()).toBe(`Halted. ${inFlight} deliveries were already in flight; ${stopped} were stopped.`);
    // Held at the relay, hold0's claim is still in flight; with one delivery slot, the windows after it were never claimed.
    expect(inFlight).toBeGreaterThan(0);
    expect(stopped).toBeGreaterThan(0);
    // The ledger agrees: the claim waiting on hold0 is in flight, every unclaimed row ends halted, the rest were sent.
    const ledger = await h.until(
      async () => (await h.api('author', 'GET', `/campaigns/${created.body.id}`)).body.deliveries,
      (counts) => counts.queued === 0,
      'the halted rows to be rewritten',
    );
    expect(ledger).toMatchObject({
      sending: inFlight,
      halted: stopped,
      sent: recipients.length - inFlight - stopped,
      failed: 0,
      unknown: 0,
    });
    await screenshot(author, 'campaign-halted');

    await author.getByRole('link', { name: 'Recall and correct…' }).click();
    expect(await author.getByTestId('correction-reach').textContent()).toBe(String(ledger.sent));
    await screenshot(author, 'recall-confirm');
    await author.getByLabel(/A note for the recipients/).fill('Keep the app: the earlier message was wrong.');
    await author.getByRole('button', { name: 'Recall and send the correction for approval' }).click();
    await author.getByText('Correction created and sent to the approvers.').waitFor();
    await author.getByRole('heading', { name: /Re: Delete the app/ }).waitFor();
    await author.getByRole('link', { name: 'Delete the app' }).waitFor();
    // Let go of hold0: the deliveries that were in flight land, and nothing that was stopped does.
    release();
    const settled = await h.until(
      async () => (await h.api('author', 'GET', `/campaigns/${created.body.id}`)).body.deliveries,
      (counts) => counts.sending === 0,
      'the in-flight deliveries to be recorded',
    );
    expect(settled).toMatchObject({ sent: recipients.length - stopped, halted: stopped });
    expect(h.sink.withSubject('Delete the app')).toHaveLength(recipients.length - stopped);
  });

  it('labels every form field and lets the keyboard reach every button', async () => {
    const draft = await h.api('author', 'POST', '/campaigns', {
      subject: 'Draft to inspect',
      body: 'Hello {{firstName}}',
      audience: { listIds: [listId] },
    });
    const admin = await newPage();
    await signIn(admin, 'admin');
    const pages = ['/', '/lists', `/lists/${listId}`, '/admin', `/campaigns/${draft.body.id}`];
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
