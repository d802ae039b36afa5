/// <reference lib="dom" />
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, pageWidth, seriousAccessibilityProblems } from '../support/browser.js';
import { mainPages, seedConsole, signInAs, type ConsoleData } from '../support/console-pages.js';
import { Harness } from '../support/harness.js';

const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 900 };

describe('the console on a phone and a desktop: forms, times, tokens and ways out', () => {
  let h: Harness;
  let browser: Browser;
  let data: ConsoleData;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    h = await Harness.start({ env: { HOLD_WINDOW_SECONDS: '0', ORG_TIME_ZONE: 'Europe/Paris' } });
    [data, browser] = await Promise.all([seedConsole(h), launchChromium()]);
  });
  afterAll(async () => {
    await browser?.close();
    await h?.stop();
  });

  /** A browser of its own, in New York, so that pages must show times in the reader's zone, not the server's or UTC. */
  async function newPage(viewport = DESKTOP): Promise<Page> {
    const context = await browser.newContext({
      viewport,
      locale: 'en-US',
      timezoneId: 'America/New_York',
      ...(viewport === PHONE ? { isMobile: true, hasTouch: true } : {}),
    });
    contexts.push(context);
    const page = await context.newPage();
    page.on('dialog', (dialog) => void dialog.accept());
    page.setDefaultTimeout(15_000);
    return page;
  }

  // Every main page for each person at two widths, with axe: 18 s alone, past 60 s while the whole suite loads two cores.
  it('signs in on a phone with the code from the email; no main page is wider than 390 px or 1,280 px, and axe finds nothing serious', async () => {
    const pages = mainPages(data);
    const people = [...new Set(pages.map((p) => p.as))];
    // One browser per person, side by side; each checks its own pages in turn.
    const browsers = new Map<string | null, Page>(
      await Promise.all(
        people.map(async (as) => {
          const page = await newPage(PHONE);
          if (as) await signInAs(h, page, as, as === 'author' ? 'code' : 'link');
          return [as, page] as const;
        }),
      ),
    );
    // The code signed the author in: the page says who is signed in.
    await browsers.get('author')!.getByRole('link', { name: 'Author Tester' }).waitFor();

    const problems: Record<string, string[]> = {};
    const check = async (page: Page, { name, path }: { name: string; path: string }) => {
      // Ending on the phone, where axe looks: narrow is where things go wrong.
      for (const viewport of [DESKTOP, PHONE]) {
        await page.setViewportSize(viewport);
        await page.goto(`${h.baseUrl}${path}`);
        const width = await pageWidth(page);
        if (width > viewport.width) (problems[name] ??= []).push(`${width} px wide at ${viewport.width} px`);
      }
      for (const problem of await seriousAccessibilityProblems(page)) (problems[name] ??= []).push(problem);
    };
    await Promise.all(
      people.map(async (as) => {
        for (const shown of pages.filter((p) => p.as === as)) await check(browsers.get(as)!, shown);
      }),
    );
    expect(problems).toEqual({});
  }, 180_000);

  it('composes with the fields of the chosen list, flags a typo and empty fields as you type, keeps errors beside the fields, and confirms the count before submit', async () => {
    const page = await newPage();
    await signInAs(h, page, 'author');
    await page.getByRole('link', { name: 'New campaign' }).click();
    await page.getByLabel('Subject').fill('Desk moves');
    await page.getByLabel(/^Message/).fill('Hello {{fristName}}, your desk is {{desk}}.');
    await page.getByLabel(/Finance team/).check();
    const warnings = page.getByTestId('merge-warnings');
    await warnings
      .getByText(
        '{{fristName}} is not a field of these recipients: it would be blank for everyone, so submitting is refused. Did you mean {{firstName}}?',
      )
      .waitFor();
    await warnings.getByText('{{desk}} is empty for 3 of 12 recipients: submitting is refused until each has a value').waitFor();
    await page.getByText('Fields you can use: {{email}}, {{name}}, {{firstName}}, {{lastName}}, {{desk}}').waitFor();
    await page.getByLabel(/^Message/).fill('Hello {{firstName}}, your desk is {{desk}}.');
    await warnings.getByText(/fristName/).waitFor({ state: 'detached' });
    // The preview sits whole inside its column at 1,280 px: nothing of it is clipped.
    await page.frameLocator('#preview').locator('p', { hasText: 'Hello Solo0, your desk is Desk 0.' }).waitFor();
    const preview = await page.locator('#preview').evaluate((frame: HTMLIFrameElement) => ({
      right: frame.getBoundingClientRect().right,
      width: frame.clientWidth,
      content: frame.contentDocument!.documentElement.scrollWidth,
    }));
    expect(preview.right).toBeLessThanOrEqual(DESKTOP.width);
    expect(preview.content).toBeLessThanOrEqual(preview.width);

    // Something saving refuses: the page stays, with the error beside the message and nothing lost.
    await page.getByLabel(/^Message/).fill('Hello {{firstName}}, <b>your desk</b> is {{desk}}.');
    await page.getByRole('button', { name: 'Save draft' }).click();
    await page.locator('#body-error').waitFor();
    expect(new URL(page.url()).pathname).toBe('/campaigns');
    expect(await page.getByLabel('Subject').inputValue()).toBe('Desk moves');
    expect(await page.getByLabel(/Finance team/).isChecked()).toBe(true);
    expect(await page.getByLabel(/^Message/).getAttribute('aria-invalid')).toBe('true');

    await page.getByLabel(/^Message/).fill('Hello {{firstName}}, your desk is {{desk}}.');
    await page.getByRole('button', { name: 'Save and review before submitting' }).click();
    expect(await page.getByTestId('confirm-count').textContent()).toBe('12');
    await page.getByTestId('submit-warnings').getByText('{{desk}} is empty for 3 of 12 recipients').waitFor();
    const id = new URL(page.url()).pathname.split('/')[2]!;
    // Nothing is submitted until the author confirms.
    expect((await h.api('author', 'GET', `/campaigns/${id}`)).body.status).toBe('draft');
    // Submit refuses the empty desks: back on the edit page, the reason beside the message.
    await page.getByRole('button', { name: 'Submit to 12 recipients for approval' }).click();
    await page.getByText('Not submitted: fix what is marked below.').waitFor();
    expect(await page.locator('#body-error').textContent()).toBe('merge field {{desk}} has no value for 3 of 12 recipients');
    expect(new URL(page.url()).pathname).toBe(`/campaigns/${id}/submit`);
    expect((await h.api('author', 'GET', `/campaigns/${id}`)).body.status).toBe('draft');

    await page.getByLabel(/^Message/).fill('Hello {{firstName}}, your desk moves on Monday.');
    await page.getByRole('button', { name: 'Save and review before submitting' }).click();
    expect(await page.getByTestId('submit-warnings').count()).toBe(0);
    await page.getByRole('button', { name: 'Submit to 12 recipients for approval' }).click();
    await page.getByText('Submitted: the approvers have been emailed').waitFor();
    expect((await h.api('author', 'GET', `/campaigns/${id}`)).body.recipientCount).toBe(12);
    // The campaign page's frame holds the whole frozen message (it was empty in full-page screenshots).
    await page.waitForFunction(() => {
      const frame = document.querySelector('iframe.message') as HTMLIFrameElement | null;
      const doc = frame?.contentDocument;
      return (
        !!doc &&
        doc.readyState === 'complete' &&
        doc.body.innerText.includes('your desk moves on Monday') &&
        frame!.clientHeight >= doc.documentElement.scrollHeight
      );
    });

    // The approval email names its times in the organisation's zone; the page in the reader's.
    await h.sink.waitUntil(() => h.approvalLinks('Desk moves').size === 3, 30_000, 'the approval requests');
    const request = h.sink.withSubject('Approval needed: Desk moves')[0]!.parsed.text ?? '';
    expect(request).toMatch(/\d{2}:\d{2} Europe\/Paris/);
    expect(request).not.toMatch(/GMT|UTC/);
    const submittedAt = page.locator('time[data-local]').first();
    const instant = new Date((await submittedAt.getAttribute('datetime'))!);
    const inNewYork = instant.toLocaleString('en-US', {
      timeZone: 'America/New_York',
      year: 'numeric',
      month: 'short',
      day: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      timeZoneName: 'short',
    });
    expect(await submittedAt.textContent()).toBe(inNewYork);
  });

  it('a submit refused, or overtaken by a change to the list, says why on the confirmation and leads back to the campaign, which stays a draft', async () => {
    const list = await h.api('author', 'POST', '/lists', { name: 'Night shift' });
    const members = (n: number) =>
      ['email,name', ...Array.from({ length: n }, (_, i) => `night${i}@corp.example.com,Night ${i}`)].join('\n');
    await h.api('author', 'POST', `/lists/${list.body.id}/members`, members(2), { 'content-type': 'text/csv' });
    const created = await h.api('author', 'POST', '/campaigns', {
      subject: 'Needs five',
      body: 'Hello {{firstName}}',
      audience: { listIds: [list.body.id], recipients: [] },
      requiredApprovals: 5,
    });
    const page = await newPage(PHONE);
    await signInAs(h, page, 'author');
    await page.goto(`${h.baseUrl}/campaigns/${created.body.id}`);
    await page.getByRole('link', { name: 'Submit for approval…' }).click();
    expect(await page.getByTestId('confirm-count').textContent()).toBe('2');

    // The list grows while the author reads: the count they confirmed is no longer the audience.
    await h.api('author', 'POST', `/lists/${list.body.id}/members`, members(3), { 'content-type': 'text/csv' });
    await page.getByRole('button', { name: 'Submit to 2 recipients for approval' }).click();
    expect(await page.getByTestId('submit-error').textContent()).toBe(
      'Not submitted: the audience changed since you looked: it is now 3 recipients. Check it and submit again.',
    );
    expect(await page.getByTestId('confirm-count').textContent()).toBe('3');

    await page.getByRole('button', { name: 'Submit to 3 recipients for approval' }).click();
    expect(await page.getByTestId('submit-error').textContent()).toMatch(/^Not submitted: this campaign needs 5 approvals/);
    await page.getByRole('link', { name: '← Back to the campaign' }).click();
    expect(new URL(page.url()).pathname).toBe(`/campaigns/${created.body.id}`);
    expect((await h.api('author', 'GET', `/campaigns/${created.body.id}`)).body.status).toBe('draft');
  });

  it('people create, see once and revoke their own API tokens; an empty list says what next; a 404 knows who is signed in; a skip link leads past the header; an admin deactivates a person', async () => {
    const author = await newPage();
    await signInAs(h, author, 'author');
    await author.getByRole('link', { name: 'Author Tester' }).click();
    await author.getByLabel(/Name of a new token/).fill('deploy script');
    await author.getByRole('button', { name: 'Create token' }).click();
    const token = (await author.getByTestId('new-token-value').textContent())!;
    const asToken = (path: string) => fetch(`${h.baseUrl}/api/v1${path}`, { headers: { authorization: `Bearer ${token}` } });
    expect((await asToken('/campaigns')).status).toBe(200);
    await author.goto(`${h.baseUrl}/account`);
    expect(await author.content()).not.toContain(token);
    await author.getByRole('button', { name: 'Revoke deploy script' }).click();
    await author.getByText('Token revoked').waitFor();
    expect((await asToken('/campaigns')).status).toBe(401);
    expect(await author.getByTestId('tokens').textContent()).not.toContain('deploy script');

    // An empty list says what to do next.
    const empty = await h.api('author', 'POST', '/lists', { name: 'Nobody yet' });
    await author.goto(`${h.baseUrl}/lists/${empty.body.id}`);
    expect(await author.getByTestId('no-members').textContent()).toBe('No members yet: import them from a CSV file above.');

    // The first Tab on a page reaches the skip link, which moves focus past the header.
    await author.goto(`${h.baseUrl}/no-such-page`);
    await author.getByRole('heading', { name: 'Not found' }).waitFor();
    await author.getByRole('link', { name: 'Author Tester' }).waitFor();
    await author.getByRole('link', { name: 'Go to the campaigns' }).waitFor();
    await author.keyboard.press('Tab');
    expect(await author.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    await author.keyboard.press('Enter');
    expect(await author.evaluate(() => document.activeElement?.id)).toBe('main');

    const bob = h.users.bob!;
    const admin = await newPage(PHONE);
    await signInAs(h, admin, 'admin');
    await admin.goto(`${h.baseUrl}/admin`);
    await admin
      .getByRole('row', { name: new RegExp(bob.email) })
      .getByRole('button', { name: 'Deactivate' })
      .click();
    await admin.getByText('Deactivated: their sessions and tokens no longer work').waitFor();
    await admin
      .getByRole('row', { name: new RegExp(bob.email) })
      .getByText('deactivated')
      .waitFor();
    expect((await h.api('bob', 'GET', '/campaigns')).status).toBe(401);
  });

  it("a saved draft's send time opens on the edit page in the reader's zone, and saving the page unchanged keeps the same moment", async () => {
    const sendAt = '2027-03-01T15:00:00.000Z';
    const id = await h.createCampaign({
      subject: 'Canteen hours',
      recipients: [{ email: 'canteen@example.com', name: 'Canteen' }],
      sendAt,
    });
    const page = await newPage();
    await signInAs(h, page, 'author');
    await page.goto(`${h.baseUrl}/campaigns/${id}/edit`);
    // 15:00 UTC is 10:00 in New York on that day (EST, before the change to summer time).
    expect(await page.getByLabel('Time zone of that time').inputValue()).toBe('America/New_York');
    expect(await page.locator('#sendAtLocal').inputValue()).toBe('2027-03-01T10:00');
    await page.getByRole('button', { name: 'Save draft' }).click();
    await page.waitForURL((url) => url.pathname === `/campaigns/${id}`);
    expect((await h.api('author', 'GET', `/campaigns/${id}`)).body.sendAt).toBe(sendAt);
  });
});
