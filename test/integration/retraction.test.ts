import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imapMailbox } from '../../src/mail/imap-mailbox.js';
import { MailboxError } from '../../src/mail/mailbox.js';
import { RETRACTION_SENTENCE } from '../../src/services/recall.js';
import { Dovecot, DOVECOT_MISSING, dovecotInstalled } from '../support/dovecot.js';
import { Harness, people } from '../support/harness.js';

if (!dovecotInstalled) console.warn(`skipping test/integration/retraction.test.ts: ${DOVECOT_MISSING}`);

// Six staff with mailboxes on the Dovecot; one more on the same domain without one; one outside it.
const staff = people(6, 'ret');
const noMailbox = { email: 'gone0000@corp.example.com', name: 'gone 0' };
const outsider = { email: 'ext0000@partner.example.org', name: 'ext 0' };

interface Report {
  id: string;
  status: string;
  dryRun: Record<'would_remove' | 'not_found' | 'already_deleted' | 'failed' | 'not_retractable', number>;
  outcomes: Record<'pending' | 'working' | 'removed' | 'not_found' | 'already_deleted' | 'failed' | 'not_retractable' | 'halted', number>;
  quorum: { missing: string[] };
}

describe.skipIf(!dovecotInstalled)('recall with retraction, against a real IMAP server', () => {
  let h: Harness;
  let dovecot: Dovecot;
  let policyDir: string;

  /** Every message the relay accepted for someone with a mailbox goes on into it over LMTP, as an MTA would hand it over. */
  async function deliverToMailboxes(subject: string): Promise<void> {
    for (const message of h.sink.withSubject(subject)) {
      const to = message.envelopeTo.filter((address) => staff.some((s) => s.email === address));
      if (to.length) await dovecot.deliver(message.raw, message.parsed.from!.value[0]!.address!, to);
    }
  }

  async function sentCampaign(subject: string, recipients: { email: string; name: string }[]): Promise<string> {
    const { id } = await h.approvedCampaign({ subject, body: 'Hello {{firstName}}.', recipients });
    await h.waitForStatus(id, 'sent');
    await deliverToMailboxes(subject);
    return id;
  }

  const retraction = async (id: string) => (await h.api('alice', 'GET', `/campaigns/${id}/retraction`)).body as Report;
  const untilRetraction = (id: string, accept: (r: Report) => boolean, what: string) => h.until(() => retraction(id), accept, what);

  async function ledgerMessageIds(id: string): Promise<Map<string, string>> {
    const rows = (await h.api('alice', 'GET', `/campaigns/${id}/deliveries`)).body.deliveries as { email: string; messageId: string }[];
    return new Map(rows.map((r) => [r.email, r.messageId]));
  }

  beforeAll(async () => {
    dovecot = await Dovecot.start(staff.map((s) => s.email));
    policyDir = await mkdtemp(join(tmpdir(), 'cs-policy-'));
    await writeFile(join(policyDir, 'policy.yaml'), 'retraction: { allowed: true }\n');
    h = await Harness.start({
      env: {
        POLICY_FILE: join(policyDir, 'policy.yaml'),
        RETRACT_IMAP_URL: `imap://127.0.0.1:${dovecot.imapPort}`,
        RETRACT_IMAP_MASTER_USER: dovecot.master.user,
        RETRACT_IMAP_MASTER_PASSWORD: dovecot.master.password,
        RETRACT_DOMAINS: 'corp.example.com',
        RETRACT_CONCURRENCY: '2',
        // Slow enough that a halt lands mid-run.
        RETRACT_RATE_PER_SECOND: '4',
      },
    });
    await h.addAuthorAndApprovers();
    await h.addUser('cho', ['admin']);
  });
  afterAll(async () => {
    await h?.stop();
    await dovecot?.stop();
    if (policyDir) await rm(policyDir, { recursive: true, force: true });
  });

  it('dry run, approval with an admin, then each original moves to Trash and nothing else is touched', async () => {
    const originalId = await sentCampaign('Wrong bonus figures', [...staff, noMailbox, outsider]);
    await sentCampaign('Canteen menu', staff.slice(0, 3));
    // Another sender's message in the same mailboxes.
    for (const person of staff) {
      const raw = Buffer.from(
        `From: hr@corp.example.com\r\nTo: ${person.email}\r\nSubject: Bonus figures\r\nMessage-ID: <hr-${person.email}>\r\n\r\nFrom HR.\r\n`,
      );
      await dovecot.deliver(raw, 'hr@corp.example.com', [person.email]);
    }
    const originalIds = await ledgerMessageIds(originalId);
    const before = await dovecot.messageIds(staff[0]!.email, 'INBOX');
    expect(before).toContain(originalIds.get(staff[0]!.email));

    const bad = await h.api('author', 'POST', `/campaigns/${originalId}/recall`, { retract: 'yes' });
    expect(bad.status).toBe(400);
    const recall = await h.api('author', 'POST', `/campaigns/${originalId}/recall`, { retract: true, note: 'The figures were wrong.' });
    expect(recall.status).toBe(201);
    expect(recall.body.retraction).toMatchObject({ items: staff.length + 2 });
    expect(recall.body.correction.body).toContain(RETRACTION_SENTENCE);

    // The dry run touches nothing and says what a run would do, recipient by recipient.
    const checked = await untilRetraction(originalId, (r) => r.status === 'pending_approval', 'the dry run');
    expect(checked.dryRun).toEqual({ would_remove: staff.length, not_found: 1, already_deleted: 0, failed: 0, not_retractable: 1 });
    expect(await dovecot.messageIds(staff[0]!.email, 'INBOX')).toEqual(before);
    const items = (await h.api('alice', 'GET', `/campaigns/${originalId}/retraction/items`)).body.items as {
      email: string;
      messageId: string;
      dryRun: string;
      dryRunResponse: string;
    }[];
    for (const item of items) expect(item.messageId).toBe(originalIds.get(item.email));
    expect(items.find((i) => i.email === noMailbox.email)).toMatchObject({ dryRun: 'not_found' });
    expect(items.find((i) => i.email === outsider.email)!.dryRunResponse).toMatch(/partner\.example\.org is not a domain/);
    const asked = () => h.sink.withSubject('Retraction awaiting approval').map((m) => m.envelopeTo[0]);
    await h.sink.waitUntil(() => asked().includes(h.users.cho!.email), 30_000, 'the admin asked to approve');
    expect(asked()).toEqual(expect.arrayContaining([h.users.alice!.email, h.users.bob!.email]));
    expect(asked()).not.toContain(h.users.author!.email);

    // The correction's approvers see on their approval page what the dry run found, and that the removal is approved apart.
    await h.sink.waitUntil(
      () => h.approvalLinks('Re: Wrong bonus figures').has(h.users.alice!.email),
      30_000,
      "the correction's approval request",
    );
    const review = await (await h.signIn('alice')).get(h.approvalLinks('Re: Wrong bonus figures').get(h.users.alice!.email)!);
    const reviewHtml = await review.text();
    expect(reviewHtml).toContain('This recall also removes the original from mailboxes (waiting for approval)');
    expect(reviewHtml).toMatch(/Would remove<\/th><td data-retraction-count="dryRun.would_remove">6</);

    // The correction's two approvers are not enough: a retraction also needs an admin, never the requester.
    expect((await h.api('author', 'POST', `/campaigns/${originalId}/retraction/approve`)).status).toBe(403);
    expect((await h.api('alice', 'POST', `/campaigns/${originalId}/retraction/approve`)).status).toBe(200);
    expect((await h.api('alice', 'POST', `/campaigns/${originalId}/retraction/approve`)).body.error).toBe('duplicate');
    const two = await h.api('bob', 'POST', `/campaigns/${originalId}/retraction/approve`);
    expect(two.body).toMatchObject({ status: 'pending_approval', quorum: { missing: ['an admin'] } });
    expect(await dovecot.messageIds(staff[0]!.email, 'INBOX')).toEqual(before);

    // The admin decides on the campaign page, which shows what the dry run found.
    const cho = await h.signIn('cho');
    const approvalPage = await (await cho.get(`/campaigns/${originalId}`)).text();
    expect(approvalPage).toMatch(/Would remove<\/th><td data-retraction-count="dryRun.would_remove">6</);
    expect(approvalPage).toMatch(/Not found<\/th><td data-retraction-count="dryRun.not_found">1</);
    expect(approvalPage).toMatch(/Not retractable<\/th><td data-retraction-count="dryRun.not_retractable">1</);
    expect(approvalPage).toContain('still needs an admin');
    const approved = await cho.post(`/campaigns/${originalId}/retraction/approve`, { _csrf: await cho.csrf(`/campaigns/${originalId}`) });
    expect(approved.status).toBe(303);
    expect(approved.headers.get('location')).toContain('notice=retraction-started');

    const done = await untilRetraction(originalId, (r) => r.status === 'done', 'the retraction to finish');
    expect(done.outcomes).toMatchObject({ removed: staff.length, not_found: 1, not_retractable: 1, failed: 0, pending: 0, working: 0 });

    // Checked as each person logging in: the original is in Trash, everything else where it was.
    const canteen = await ledgerMessageIds(
      (await h.api('alice', 'GET', '/campaigns')).body.campaigns.find((c: { subject: string }) => c.subject === 'Canteen menu').id,
    );
    for (const [i, person] of staff.entries()) {
      const inbox = await dovecot.messageIds(person.email, 'INBOX');
      expect(inbox).not.toContain(originalIds.get(person.email));
      expect(inbox).toContain(`<hr-${person.email}>`);
      if (i < 3) expect(inbox).toContain(canteen.get(person.email));
      expect(await dovecot.messageIds(person.email, 'Trash')).toEqual([originalIds.get(person.email)]);
    }

    const audit = await h.api('alice', 'GET', `/campaigns/${originalId}/audit`);
    const actions = (audit.body.events as { action: string }[]).map((e) => e.action).filter((a) => a.startsWith('retraction.'));
    expect(actions).toEqual([
      'retraction.request',
      'retraction.checked',
      'retraction.approve',
      'retraction.approve',
      'retraction.approve',
      'retraction.start',
      'retraction.finish',
    ]);
    // The master password is in no answer, ledger row or audit event.
    const ledger = await h.api('alice', 'GET', `/campaigns/${originalId}/retraction/items`);
    for (const text of [audit.text, ledger.text, JSON.stringify(done)]) expect(text).not.toContain(dovecot.master.password);

    // The campaign page shows the outcome per mailbox, and no longer offers to approve.
    const html = await (await cho.get(`/campaigns/${originalId}`)).text();
    expect(html).toContain('Retraction: done');
    expect(html).toMatch(/Removed<\/th><td data-retraction-count="outcomes.removed">6</);
    expect(html).not.toContain('Approve the retraction');
    // Operators see its queue beside the others.
    expect(await (await cho.get('/admin/queues')).text()).toMatch(/<th scope="row">retract<\/th>/);
    // What the page polls while the retraction runs.
    const progress = await (await cho.get(`/campaigns/${originalId}/retraction/progress`)).json();
    expect(progress).toMatchObject({ status: 'done', dryRun: { would_remove: 6 }, outcomes: { removed: 6, not_found: 1 } });
  });

  it('the kill switch halts a retraction waiting for approval', async () => {
    const id = await sentCampaign('Parking rules', staff.slice(0, 2));
    expect((await h.api('author', 'POST', `/campaigns/${id}/recall`, { retract: true })).status).toBe(201);
    await untilRetraction(id, (r) => r.status === 'pending_approval', 'the dry run');
    expect((await h.api('cho', 'POST', '/halt-all', { reason: 'drill' })).status).toBe(200);
    expect(await retraction(id)).toMatchObject({ status: 'halted', outcomes: { halted: 2, removed: 0 } });
    expect((await h.api('cho', 'POST', '/resume-all')).status).toBe(200);
    expect((await h.api('alice', 'POST', `/campaigns/${id}/retraction/approve`)).body.error).toBe('not_pending');
  });

  it('a row whose worker died mid-move is taken over and reported removed, not done twice', async () => {
    const id = await sentCampaign('Desk moves', staff.slice(0, 2));
    const messageIds = await ledgerMessageIds(id);
    expect((await h.api('author', 'POST', `/campaigns/${id}/recall`, { retract: true })).status).toBe(201);
    const { id: retractionId } = await untilRetraction(id, (r) => r.status === 'pending_approval', 'the dry run');
    // A worker took the first row two minutes ago, moved the message, and died before writing it down.
    const victim = staff[0]!.email;
    await h.db
      .updateTable('retraction_items')
      .set({ status: 'working', claim_token: 'dead-worker', claimed_at: new Date(Date.now() - 120_000), attempts: 1 })
      .where('retraction_id', '=', retractionId)
      .where('email', '=', victim)
      .execute();
    await h.ctx.mailbox!.retract(victim, messageIds.get(victim)!, { dryRun: false });
    for (const approver of ['alice', 'bob', 'cho'])
      expect((await h.api(approver, 'POST', `/campaigns/${id}/retraction/approve`)).status).toBe(200);

    expect((await untilRetraction(id, (r) => r.status === 'done', 'the retraction to finish')).outcomes).toMatchObject({
      removed: 2,
      working: 0,
    });
    const items = (await h.api('alice', 'GET', `/campaigns/${id}/retraction/items`)).body.items as {
      email: string;
      status: string;
      response: string;
      attempts: number;
    }[];
    expect(items.find((i) => i.email === victim)).toMatchObject({
      status: 'removed',
      attempts: 2,
      response: expect.stringContaining('after an interrupted attempt'),
    });
    for (const person of staff.slice(0, 2))
      expect((await dovecot.messageIds(person.email, 'Trash')).filter((m) => m === messageIds.get(person.email))).toHaveLength(1);
  });

  it('the IMAP backend moves only an exact Message-ID, and tells a refused master login from a server that is down', async () => {
    const person = staff[5]!.email;
    const backend = (password: string, port = dovecot.imapPort) =>
      imapMailbox({
        url: `imap://127.0.0.1:${port}`,
        masterUser: dovecot.master.user,
        masterPassword: password,
        domains: ['corp.example.com'],
      });
    // IMAP's HEADER search matches substrings: a look-alike must stay where it is.
    for (const id of ['<target.1@corp.example.com>', '<target.1@corp.example.com>.copy', '<x-target.1@corp.example.com>']) {
      await dovecot.deliver(
        Buffer.from(`From: a@corp.example.com\r\nTo: ${person}\r\nSubject: t\r\nMessage-ID: ${id}\r\n\r\nx\r\n`),
        'a@corp.example.com',
        [person],
      );
    }
    const mailbox = backend(dovecot.master.password);
    expect(await mailbox.retract(person, '<target.1@corp.example.com>', { dryRun: true })).toEqual({
      finding: 'found',
      response: 'in INBOX',
    });
    expect((await mailbox.retract(person, '<target.1@corp.example.com>', { dryRun: false })).finding).toBe('found');
    const trash = await dovecot.messageIds(person, 'Trash');
    expect(trash).toContain('<target.1@corp.example.com>');
    expect(trash.filter((id) => id.includes('target'))).toHaveLength(1);
    expect(await dovecot.messageIds(person, 'INBOX')).toEqual(
      expect.arrayContaining(['<target.1@corp.example.com>.copy', '<x-target.1@corp.example.com>']),
    );
    expect((await mailbox.retract(person, '<target.1@corp.example.com>', { dryRun: false })).finding).toBe('already_deleted');

    const refused = await backend('not-the-password')
      .retract(person, '<target.1@corp.example.com>', { dryRun: true })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(MailboxError);
    expect(refused).toMatchObject({ temporary: false, message: expect.stringMatching(/refused the master login/) });
    const down = await backend(dovecot.master.password, 1)
      .retract(person, '<target.1@corp.example.com>', { dryRun: true })
      .catch((e: unknown) => e);
    expect(down).toMatchObject({ temporary: true });
    for (const error of [refused, down]) expect((error as Error).message).not.toContain(dovecot.master.password);
  });

  it('a halted retraction stops touching mailboxes; the ledger says which were removed', async () => {
    const id = await sentCampaign('Wrong date for the offsite', staff);
    const messageIds = await ledgerMessageIds(id);
    // Recalled from the console, ticking the box to retract too.
    const author = await h.signIn('author');
    const recallPage = await (await author.get(`/campaigns/${id}/recall`)).text();
    expect(recallPage).toContain('name="retract"');
    const recall = await author.post(`/campaigns/${id}/recall`, {
      _csrf: await author.csrf(`/campaigns/${id}/recall`),
      subjectStyle: 'reply',
      retract: 'yes',
    });
    expect(recall.status).toBe(303);
    await untilRetraction(id, (r) => r.status === 'pending_approval', 'the dry run');
    const bob = await h.signIn('bob');
    const bobsToken = await bob.csrf(`/campaigns/${id}`);
    for (const approver of ['alice', 'bob', 'cho'])
      expect((await h.api(approver, 'POST', `/campaigns/${id}/retraction/approve`)).status).toBe(200);
    await untilRetraction(id, (r) => r.outcomes.removed >= 1, 'the first removal');

    const halted = await bob.post(`/campaigns/${id}/retraction/halt`, { _csrf: bobsToken });
    expect(halted.status).toBe(303);
    const stopped = Number(new URL(halted.headers.get('location')!, h.baseUrl).searchParams.get('stopped'));
    expect(stopped).toBeGreaterThan(0);
    const settled = await untilRetraction(id, (r) => r.outcomes.working === 0, 'the removals in flight to finish');
    expect(settled.status).toBe('halted');
    expect(settled.outcomes.halted).toBe(stopped);
    expect(settled.outcomes.removed + settled.outcomes.halted).toBe(staff.length);

    // Whatever runs later (the job's end, a repeated job) acts on nothing: each mailbox matches the ledger.
    await h.until(
      () => h.ctx.queues.retract.getJobCounts('active', 'waiting'),
      (c) => (c.active ?? 0) + (c.waiting ?? 0) === 0,
      'the retract queue to drain',
    );
    const items = (await h.api('alice', 'GET', `/campaigns/${id}/retraction/items`)).body.items as { email: string; status: string }[];
    for (const item of items) {
      const inTrash = (await dovecot.messageIds(item.email, 'Trash')).includes(messageIds.get(item.email)!);
      const inInbox = (await dovecot.messageIds(item.email, 'INBOX')).includes(messageIds.get(item.email)!);
      expect({ email: item.email, inTrash, inInbox }).toEqual({
        email: item.email,
        inTrash: item.status === 'removed',
        inInbox: item.status === 'halted',
      });
    }
    expect((await h.api('cho', 'POST', `/campaigns/${id}/retraction/approve`)).body.error).toBe('not_pending');
    expect((await h.api('bob', 'POST', `/campaigns/${id}/retraction/halt`)).body.error).toBe('illegal_transition');
    const audit = (await h.api('alice', 'GET', `/campaigns/${id}/audit`)).body.events as {
      action: string;
      actor: string;
      data: { stopped?: number };
    }[];
    expect(audit.find((e) => e.action === 'retraction.halt')).toMatchObject({ actor: h.users.bob!.email, data: { stopped } });
  });
});
