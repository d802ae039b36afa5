/// <reference lib="dom" />
import type { Page } from 'playwright-core';
import { Harness, linkIn } from './harness.js';

const SIGN_IN_SUBJECT = 'Your Countersign sign-in link';

/** What the console's main pages show in the browser tests and the screenshots: a little of everything. */
export interface ConsoleData {
  listId: string;
  sentId: string;
  pendingId: string;
  draftId: string;
  /** The approval link Alice was emailed for the pending campaign. */
  approvalLink: string;
}

/** Twelve people in a list with a desk column: three have no desk, two have no surname. */
export const FINANCE_TEAM = [
  'email,name,desk',
  ...Array.from(
    { length: 12 },
    (_, i) => `fin${String(i).padStart(2, '0')}@corp.example.com,${i < 2 ? `Solo${i}` : `Person${i} Fin`},${i >= 9 ? '' : `Desk ${i}`}`,
  ),
].join('\n');

export async function seedConsole(h: Harness): Promise<ConsoleData> {
  await h.addAuthorAndApprovers();
  await h.addUser('admin', ['admin', 'approver']);
  const list = await h.api('author', 'POST', '/lists', { name: 'Finance team' });
  const listId: string = list.body.id;
  await h.api('author', 'POST', `/lists/${listId}/members`, FINANCE_TEAM, { 'content-type': 'text/csv' });
  const body =
    '# Quarter close\n\nHello {{firstName}}, please file your expenses by Friday.\n\nSee https://intranet.corp.example.com/finance/quarter-close for the details.';
  const sent = await h.approvedCampaign({ subject: 'Quarter close: file your expenses by Friday', body, listIds: [listId] });
  await h.waitForStatus(sent.id, 'sent', 60_000);
  const pendingId = await h.createCampaign({
    subject: 'The office moves on Monday',
    body: 'Hello {{firstName}}, from Monday we work from the new office.',
    listIds: [listId],
  });
  await h.submitCampaign(pendingId);
  await h.sink.waitUntil(() => h.approvalLinks('The office moves on Monday').has(h.users.alice!.email), 30_000, 'the approval request');
  const draftId = await h.createCampaign({
    subject: 'Holiday rota',
    body: 'Hello {{firstName}}, the holiday rota is out.',
    listIds: [listId],
  });
  return {
    listId,
    sentId: sent.id,
    pendingId,
    draftId,
    approvalLink: h.approvalLinks('The office moves on Monday').get(h.users.alice!.email)!,
  };
}

/** The sign-in emails `key` has received. */
export const signInEmails = (h: Harness, key: string) => h.sink.to(h.users[key]!.email).filter((m) => m.parsed.subject === SIGN_IN_SUBJECT);

/**
 * Signs in the way a person does on the sign-in page: asks for a link and then either opens it in
 * this browser, or types the code from the email (as someone reading it on their phone would).
 */
export async function signInAs(h: Harness, page: Page, key: string, how: 'link' | 'code' = 'link'): Promise<void> {
  const before = signInEmails(h, key).length;
  await page.goto(`${h.baseUrl}/sign-in`);
  await page.getByLabel('Your work email').fill(h.users[key]!.email);
  await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
  await page.getByTestId('sign-in-sent').waitFor();
  await h.sink.waitUntil(() => signInEmails(h, key).length > before, 30_000, 'sign-in email');
  const email = signInEmails(h, key).at(-1)!;
  if (how === 'code') {
    const code = /\b([A-Z2-9]{4}-[A-Z2-9]{4})\b/.exec(email.parsed.text ?? '')![1]!;
    await page.getByLabel('The code from the sign-in email').fill(code);
    await page.getByRole('button', { name: 'Sign in with the code' }).click();
  } else {
    await page.goto(linkIn(email, 'sign-in'));
    await page.getByRole('button', { name: 'Sign in' }).click();
  }
  await page.waitForURL((url) => url.pathname === '/');
}

/** The main pages of the console, each with who looks at it (null: signed out). */
export function mainPages(data: ConsoleData): { name: string; path: string; as: string | null }[] {
  return [
    { name: 'sign-in', path: '/sign-in', as: null },
    { name: 'campaign-list', path: '/', as: 'author' },
    { name: 'compose', path: '/campaigns/new', as: 'author' },
    { name: 'campaign-sent', path: `/campaigns/${data.sentId}`, as: 'author' },
    { name: 'deliveries', path: `/campaigns/${data.sentId}/deliveries`, as: 'author' },
    { name: 'campaign-draft', path: `/campaigns/${data.draftId}`, as: 'author' },
    { name: 'submit-confirm', path: `/campaigns/${data.draftId}/submit`, as: 'author' },
    { name: 'lists', path: '/lists', as: 'author' },
    { name: 'list', path: `/lists/${data.listId}`, as: 'author' },
    { name: 'account', path: '/account', as: 'author' },
    { name: 'not-found', path: '/no-such-page', as: 'author' },
    { name: 'admin', path: '/admin', as: 'admin' },
    { name: 'approval', path: new URL(data.approvalLink).pathname, as: 'alice' },
  ];
}
