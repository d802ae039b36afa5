/// <reference lib="dom" />
import type { BrowserContext, Page } from 'playwright-core';
import { SESSION_COOKIE } from '../../src/http/web.js';

/** A form as the scanner saw it: how and where it submits, and the labels of its submit buttons. */
export interface SeenForm {
  method: string;
  action: string;
  buttons: string[];
}

export interface SeenPage {
  /** Path and query the scanner asked for, and where it ended up after redirects. */
  url: string;
  landedOn: string;
  status: number;
  signedIn: boolean;
  forms: SeenForm[];
}

export interface Submission {
  page: string;
  method: string;
  action: string;
  button: string;
  /** The HTTP status of the submission, or `gone` when the form was no longer on the page. */
  status: number | 'gone';
  landedOn: string;
}

export interface ScanReport {
  pages: SeenPage[];
  submissions: Submission[];
  /** Console pages linked from a signed-in page, which the scanner leaves alone (see `scan`). */
  notFollowed: string[];
}

const SUBMIT_BUTTONS = 'button:not([type=button]):not([type=reset]), input[type=submit]';
const LINK_FLOWS = /^\/(approve|sign-in)(\/|$)/;
const NO_BUTTON = '(no button)';

const local = (url: string | URL) => {
  const parsed = new URL(url);
  return parsed.pathname + parsed.search;
};

function readForms(page: Page): Promise<(SeenForm & { fields: string })[]> {
  return page.$$eval(
    'form',
    (forms, selector) =>
      forms.map((form) => {
        const action = new URL(form.action);
        const buttons = [...form.querySelectorAll(selector)].map((b) => (b.textContent || (b as HTMLInputElement).value || '').trim());
        const fields = [...new FormData(form)].map(([name, value]) => `${name}=${String(value)}`).join('&');
        return { method: form.method.toUpperCase(), action: action.pathname + action.search, buttons, fields };
      }),
    SUBMIT_BUTTONS,
  );
}

/**
 * A link-following scanner in `context` (its cookie jar persists, as a scanner's session does):
 * opens each start URL, follows every same-origin link, and submits every form it finds once per
 * submit button, from a fresh load of its page, with each empty field filled in. A form with the
 * same action and values on another page counts as the same form. It answers no `confirm()`
 * (Playwright dismisses dialogs). A page counts as new when its URL or the session cookie is new.
 *
 * Two choices keep the scan about the links rather than about whoever it is signed in as:
 * - With a session it opens only pages of the link flows (`/approve/…`, `/sign-in…`).
 *   The console acts with the session's own powers (every form there carries that session's CSRF
 *   token), so a crawler inside someone's session can do whatever they may; that is no property
 *   of the emailed links. Those links are listed in `notFollowed`.
 * - It submits a sign-out form last, when nothing else is left, and stops there, so the whole
 *   scan keeps the role it started with.
 */
export async function scan(context: BrowserContext, startUrls: string[]): Promise<ScanReport> {
  const origin = new URL(startUrls[0]!).origin;
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const report: ScanReport = { pages: [], submissions: [], notFollowed: [] };
  const queue = [...startUrls];
  const seenPages = new Set<string>();
  const submittedForms = new Set<string>();
  const signOuts: { url: string; form: number; button: number; seen: SeenForm }[] = [];
  /** The URL the page shows as loaded and not yet submitted from, which saves a reload. */
  let untouched: string | undefined;
  const session = async () => (await context.cookies(origin)).find((c) => c.name === SESSION_COOKIE)?.value;

  const follow = async () => {
    // An in-page link (the skip link) leads to no other page.
    for (const href of await page.$$eval('a[href]:not([href^="#"])', (links) => links.map((a) => (a as HTMLAnchorElement).href))) {
      const url = new URL(href);
      url.hash = '';
      if (url.origin === origin) queue.push(url.toString());
    }
  };

  const submit = async (url: string, formIndex: number, buttonIndex: number, seen: SeenForm) => {
    if (untouched !== url) await page.goto(url);
    untouched = undefined;
    const { method, action, buttons } = seen;
    if ((await readForms(page))[formIndex]?.action !== action) {
      // What an earlier submission changed: the page no longer has this form.
      report.submissions.push({
        page: local(url),
        method,
        action,
        button: buttons[buttonIndex] ?? NO_BUTTON,
        status: 'gone',
        landedOn: local(page.url()),
      });
      return;
    }
    const target = new URL(action, origin).pathname;
    const responded = page.waitForResponse(
      (r) => r.request().method() === method && new URL(r.url()).pathname === target && r.frame() === page.mainFrame(),
    );
    const loaded = page.waitForEvent('load');
    await page
      .locator('form')
      .nth(formIndex)
      .evaluate(
        (form, { selector, buttonIndex }) => {
          for (const field of form.querySelectorAll('input, textarea')) {
            const input = field as HTMLInputElement;
            if (['hidden', 'submit', 'button', 'reset', 'image', 'checkbox', 'radio', 'file'].includes(input.type) || input.value) continue;
            input.value = input.type === 'email' ? 'scanner@scan.example.net' : '1';
          }
          (form as HTMLFormElement).requestSubmit(form.querySelectorAll<HTMLElement>(selector)[buttonIndex] ?? null);
        },
        { selector: SUBMIT_BUTTONS, buttonIndex },
      );
    const response = await responded;
    await loaded;
    report.submissions.push({
      page: local(url),
      method,
      action,
      button: buttons[buttonIndex] ?? NO_BUTTON,
      status: response.status(),
      landedOn: local(page.url()),
    });
    queue.push(page.url());
    await follow();
  };

  for (;;) {
    const url = queue.shift();
    if (url === undefined) {
      const last = signOuts.shift();
      if (!last) break;
      await submit(last.url, last.form, last.button, last.seen);
      break;
    }
    const sessionCookie = await session();
    const signedIn = sessionCookie !== undefined;
    if (signedIn && !LINK_FLOWS.test(new URL(url).pathname)) {
      if (!report.notFollowed.includes(local(url))) report.notFollowed.push(local(url));
      continue;
    }
    const key = `${sessionCookie ?? ''} ${url}`;
    if (seenPages.has(key)) continue;
    seenPages.add(key);
    const response = await page.goto(url);
    untouched = url;
    const forms = await readForms(page);
    report.pages.push({
      url: local(url),
      landedOn: local(page.url()),
      status: response!.status(),
      signedIn,
      forms: forms.map(({ method, action, buttons }) => ({ method, action, buttons })),
    });
    await follow();
    for (const [formIndex, form] of forms.entries()) {
      for (const [buttonIndex, button] of (form.buttons.length ? form.buttons : [NO_BUTTON]).entries()) {
        const signature = `${form.method} ${form.action} ${form.fields} ${button}`;
        if (submittedForms.has(signature)) continue;
        submittedForms.add(signature);
        if (form.action === '/sign-out') signOuts.push({ url, form: formIndex, button: buttonIndex, seen: form });
        else await submit(url, formIndex, buttonIndex, form);
      }
    }
  }
  await page.close();
  return report;
}

/**
 * A report as lines a test can list in full: each page (`asked → landed on` after a redirect,
 * marked when the scanner had a session) with its forms, each submission with its answer, and
 * the links left alone. `named` puts names in place of the tokens in paths.
 */
export function describeScan(report: ScanReport, named: (path: string) => string) {
  const pageName = (p: SeenPage) => `${p.landedOn === p.url ? p.url : `${p.url} → ${p.landedOn}`}${p.signedIn ? ' (signed in)' : ''}`;
  return {
    pages: Object.fromEntries(
      report.pages.map((p) => [named(pageName(p)), p.forms.map((f) => named(`${f.method} ${f.action} [${f.buttons.join(', ')}]`))]),
    ),
    submissions: report.submissions.map((s) => named(`${s.button} on ${s.page}: ${s.method} ${s.action} → ${s.status} ${s.landedOn}`)),
    notFollowed: report.notFollowed,
  };
}
