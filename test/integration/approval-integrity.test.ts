import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCampaign } from '../../src/services/sending.js';
import { Harness, linkIn, people } from '../support/harness.js';
import type { ReceivedMessage } from '../support/smtp-sink.js';

/** The inbox snippet a mail client shows beside the subject: the layout's hidden preheader. */
const preheaderOf = (message: ReceivedMessage) =>
  /<span style="display:none;[^"]*">([^<]*)<\/span>/.exec(String(message.parsed.html))?.[1] ?? null;

const csvOf = (rows: string[][]) => rows.map((r) => r.join(',')).join('\n');

describe('what approvers see is what every recipient gets', () => {
  let h: Harness;
  // Messages to slow* stay inside their SMTP transaction until the test lets go: a send in progress.
  let release = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));

  beforeAll(async () => {
    h = await Harness.start({
      sink: { holdData: (address) => (address.startsWith('slow') ? held : undefined) },
      // One row claimed and recorded at a time: the ledger shows each delivery as it lands.
      env: { HOLD_WINDOW_SECONDS: '0', DELIVERY_CLAIM_SIZE: '1' },
    });
    await h.addAuthorAndApprovers();
    await h.addUser('carol', ['author']);
    await h.addUser('dee', ['author', 'approver']);
  });
  afterAll(async () => {
    release();
    await h?.stop();
  });

  const HIDDEN = [
    ['an HTML comment', 'Hello {{firstName}}\n\n<!-- psst -->', 3],
    ['an Outlook-only conditional comment', 'Hello\n\n<!--[if mso]>Delete the app now<![endif]-->', 3],
    ['a script', 'Hello\n\n<script>alert(1)</script>', 3],
    ['a form', 'Hello\n\n<form action="https://evil.example.net"><input name="pw"></form>', 3],
    ['an iframe', 'Hello\n\n<iframe src="https://evil.example.net"></iframe>', 3],
    ['an event handler', 'Hello\n\nSee <a href="https://intranet.example.com" onclick="x()">this</a>', 3],
    ['text hidden with a style', 'Hello\n\nFine. <span style="display:none">Delete the app</span>', 3],
    ['a javascript: link', 'Hello\n\n[Open](javascript:alert(1))', 3],
    ['an image', 'Hello\n\n![](https://tracker.example.net/pixel.gif)', 3],
  ] as const;

  it.each(HIDDEN)('refuses %s when saved, naming the line, and saves nothing', async (_what, body, line) => {
    const before = (await h.api('author', 'GET', '/campaigns')).body.campaigns.length;
    const created = await h.api('author', 'POST', '/campaigns', { subject: 'Hidden', body, audience: { recipients: people(2, 'hid') } });
    expect(created.status).toBe(400);
    expect(created.body.issues[0]).toEqual({ field: 'body', message: expect.stringMatching(new RegExp(`^line ${line}: `)) });
    expect((await h.api('author', 'GET', '/campaigns')).body.campaigns).toHaveLength(before);
  });

  it('refuses the same in an edit, and the draft keeps its body', async () => {
    const id = await h.createCampaign({ subject: 'Edit me', body: 'Plain and simple.', recipients: people(2, 'edit') });
    const edited = await h.api('author', 'PATCH', `/campaigns/${id}`, { body: 'Plain.\n\n<!--[if mso]>Outlook only<![endif]-->' });
    expect(edited.status).toBe(400);
    expect(edited.body.issues[0].message).toMatch(/^line 3: raw HTML is not allowed/);
    expect((await h.api('author', 'GET', `/campaigns/${id}`)).body.body).toBe('Plain and simple.');
  });

  it('sends HTML, text part and inbox snippet made from one document: no Markdown markers, no comment, links kept', async () => {
    const body = [
      '[//]: # (a snippet nobody approved)',
      '',
      'Hello **{{firstName}}**, please _read_ [the travel policy](https://intranet.example.com/travel).',
      '',
      '- Flights: economy',
      '- Trains: first class over three hours',
    ].join('\n');
    const { id } = await h.approvedCampaign({
      subject: 'Travel policy',
      body,
      recipients: [{ email: 'ann@corp.example.com', name: 'Ann Lee' }],
    });
    await h.waitForStatus(id, 'sent');
    const [received] = h.sink.withSubject('Travel policy');
    expect(received).toBeDefined();
    const text = received!.parsed.text ?? '';
    expect(text).toContain('Hello Ann, please read the travel policy <https://intranet.example.com/travel>.');
    expect(text).not.toMatch(/\*\*|_read_|\]\(|^- /m);
    expect(text).toMatch(/Flights: economy\s+\* Trains/);
    expect(preheaderOf(received!)).toBe('Hello Ann, please read the travel policy. Flights: economy Trains: first class over three hours');
    for (const part of [text, String(received!.parsed.html)]) expect(part).not.toContain('snippet nobody approved');
    expect(String(received!.parsed.html)).toContain('<a href="https://intranet.example.com/travel">the travel policy</a>');
  });

  it('shows the approver every link and where it goes, the audience by domain and each merge value, and any recipient on request', async () => {
    const list = await h.api('author', 'POST', '/lists', { name: 'Sales and partners' });
    const rows = [
      ['email', 'name', 'team'],
      ['ann@corp.example.com', 'Ann Lee', 'Sales'],
      ['bo@corp.example.com', 'Bo Chan', 'Sales'],
      ['cy@corp.example.com', 'Cy', 'Sales'],
      ['dana@partner.example.org', 'Dana Fox', 'Support'],
    ];
    await h.api('author', 'POST', `/lists/${list.body.id}/members`, csvOf(rows), { 'content-type': 'text/csv' });
    const body =
      'Hello {{firstName}} {{lastName}} of {{team}}: see [the policy](https://intranet.corp.example.com/p) and [this form](https://evil.example.net/f).';
    const id = await h.createCampaign({ subject: 'Team notice', body, listIds: [list.body.id] });
    await h.submitCampaign(id);
    // Alice's own request: dee approves too, so any two requests need not include hers.
    await h.sink.waitUntil(() => h.approvalLinks('Team notice').has(h.users.alice!.email), 30_000, "alice's approval request");
    const link = h.approvalLinks('Team notice').get(h.users.alice!.email)!;

    const page = await (await fetch(link)).text();
    expect(page).toMatch(
      /<td><code>https:\/\/evil\.example\.net\/f<\/code><\/td><td>evil\.example\.net <span class="badge external">external<\/span><\/td>/,
    );
    expect(page).toMatch(/<td><code>https:\/\/intranet\.corp\.example\.com\/p<\/code><\/td><td>intranet\.corp\.example\.com<\/td>/);
    expect(page).toMatch(/<tr><td>corp\.example\.com<\/td><td>3<\/td><\/tr>/);
    expect(page).toMatch(/<tr><td>partner\.example\.org <span class="badge external">external<\/span><\/td><td>1<\/td><\/tr>/);
    const teamTable = /<table class="grid" data-field="team">[\s\S]*?<\/table>/.exec(page)![0];
    expect(teamTable).toContain('2 distinct value(s)');
    expect(teamTable).toMatch(/<tr><td>Sales<\/td><td>3<\/td><\/tr><tr><td>Support<\/td><td>1<\/td><\/tr>/);
    const lastNames = /<table class="grid" data-field="lastName">[\s\S]*?<\/table>/.exec(page)![0];
    expect(lastNames).toContain('empty for 1');
    // The first recipient in the ledger's order, with the inbox line and plain text a mail client shows.
    expect(page).toContain('<span data-testid="preview-recipient">ann@corp.example.com</span>');
    expect(page).toContain(
      '<div class="inbox-preheader" data-testid="inbox-preheader">Hello Ann Lee of Sales: see the policy and this form.</div>',
    );
    expect(page).toMatch(
      /<pre class="text-part" data-testid="text-part">Hello Ann Lee of Sales: see the policy &lt;https:\/\/intranet\.corp\.example\.com\/p&gt; and this form &lt;https:\/\/evil\.example\.net\/f&gt;\.<\/pre>/,
    );

    const asDana = await (await fetch(`${link}?recipient=DANA`)).text();
    expect(asDana).toContain('<span data-testid="preview-recipient">dana@partner.example.org</span>');
    expect(asDana).toContain('Hello Dana Fox of Support');
    const nobody = await (await fetch(`${link}?recipient=nobody@`)).text();
    expect(nobody).toContain('No recipient’s address contains “nobody@”');
  });

  it('names everyone who shaped it, and keeps anyone who changed a list of the audience from approving it', async () => {
    const list = await h.api('author', 'POST', '/lists', { name: 'All staff' });
    await h.api(
      'author',
      'POST',
      `/lists/${list.body.id}/members`,
      csvOf([
        ['email', 'name'],
        ['eve@corp.example.com', 'Eve One'],
      ]),
      { 'content-type': 'text/csv' },
    );
    const id = await h.createCampaign({ subject: 'Shaped by many', listIds: [list.body.id] });
    // After the campaign exists, Dee adds a member to its list; Carol edits the body; Carol submits.
    const imported = await h.api(
      'dee',
      'POST',
      `/lists/${list.body.id}/members`,
      csvOf([
        ['email', 'name'],
        ['mallory@corp.example.com', 'Mallory'],
      ]),
      {
        'content-type': 'text/csv',
      },
    );
    expect(imported.status).toBe(200);
    expect((await h.api('carol', 'PATCH', `/campaigns/${id}`, { body: 'Hello {{firstName}}, edited.' })).status).toBe(200);
    const contentHash = await h.submitCampaign(id, 'carol');

    await h.sink.waitUntil(() => h.approvalLinks('Shaped by many').size === 2, 30_000, 'approval requests');
    expect([...h.approvalLinks('Shaped by many').keys()].sort()).toEqual([h.users.alice!.email, h.users.bob!.email].sort());
    const request = h.sink.withSubject('Approval needed: Shaped by many')[0]!;
    expect(request.parsed.text).toContain('Carol Tester asks you to review a message before it goes to 2 recipients');
    expect(request.parsed.text).toContain("Written by Author Tester; edited by Carol Tester; list 'All staff' changed by Dee Tester");
    const page = await (await fetch(linkIn(request, 'approve'))).text();
    expect(page).toContain(
      '<dd data-testid="contributors">Written by Author Tester; edited by Carol Tester; list &#39;All staff&#39; changed by Dee Tester</dd>',
    );

    const byDee = await h.api('dee', 'POST', `/campaigns/${id}/approve`, { contentHash });
    expect(byDee.status).toBe(403);
    expect(byDee.body.error).toBe('list_contributor');
    expect((await h.api('alice', 'POST', `/campaigns/${id}/approve`, { contentHash })).body.approvals.approved).toBe(1);
  });

  it('refuses a recall for permission before doing anything: the original keeps sending and no correction is left behind', async () => {
    const { id } = await h.approvedCampaign({ subject: 'Still going', recipients: [...people(2, 'fast'), ...people(1, 'slow')] });
    await h.until(
      () => h.api('author', 'GET', `/campaigns/${id}`),
      (r) => r.body.status === 'sending' && r.body.deliveries.sent === 2 && r.body.deliveries.sending === 1,
      'two delivered and one in flight',
    );
    // Alice may halt it (an approver), but only an author may submit a correction.
    const refused = await h.api('alice', 'POST', `/campaigns/${id}/recall`, { note: 'oops' });
    expect(refused.status).toBe(403);
    expect(refused.body.message).toMatch(/author role/);
    const after = (await h.api('author', 'GET', `/campaigns/${id}`)).body;
    expect(after).toMatchObject({ status: 'sending', haltedAt: null, correctionCampaignId: null });
    const audit = (await h.api('author', 'GET', `/campaigns/${id}/audit`)).body.events.map((e: { action: string }) => e.action);
    expect(audit).not.toContain('campaign.recall');
    expect(audit).not.toContain('campaign.halt');

    const recalled = await h.api('author', 'POST', `/campaigns/${id}/recall`, { note: 'oops' });
    expect(recalled.status).toBe(201);
    expect(recalled.body.halt).toMatchObject({ status: 'halted' });
  });
});

describe('no single person makes a quorum', () => {
  let h: Harness;

  beforeAll(async () => {
    // Workers off: each send step is driven by the test.
    h = await Harness.start({ workers: false, env: { HOLD_WINDOW_SECONDS: '0' } });
    await h.addAuthorAndApprovers();
    await h.addUser('admin', ['admin']);
    await h.addUser('admin2', ['admin']);
  });
  afterAll(() => h?.stop());

  const later = () => new Date(Date.now() + 3600_000).toISOString();
  const rolesOf = async (key: string) =>
    (await h.db.selectFrom('users').select('roles').where('id', '=', h.users[key]!.id).executeTakeFirstOrThrow()).roles;

  it('an admin cannot change their own roles, and a grant of approver is audited and emailed to every admin', async () => {
    const admin = await h.signIn('admin');
    const self = await admin.post(`/admin/users/${h.users.admin!.id}/roles`, { _csrf: await admin.csrf('/admin'), roles: 'approver' });
    expect(self.status).toBe(409);
    expect(await self.text()).toContain('nobody can change their own roles');
    expect(await rolesOf('admin')).toEqual(['admin']);

    const frank = await h.addUser('frank', ['author']);
    const granted = await admin.post(`/admin/users/${frank.id}/roles`, [
      ['_csrf', await admin.csrf('/admin')],
      ['roles', 'author'],
      ['roles', 'approver'],
    ]);
    expect(granted.status).toBe(303);
    expect(await rolesOf('frank')).toEqual(['author', 'approver']);
    await h.flushNotifications();
    const notices = h.sink.withSubject(`Role granted: ${frank.email} is now approver`);
    expect(notices.map((m) => m.envelopeTo[0]).sort()).toEqual([h.users.admin!.email, h.users.admin2!.email].sort());
    const events = await h.db.selectFrom('audit_events').select(['action', 'data']).where('action', '=', 'user.roles').execute();
    expect(events.at(-1)!.data).toMatchObject({ userId: frank.id, granted: ['approver'] });
  });

  it('an approval stops counting when its approver loses the role; a scheduled campaign that loses its quorum halts', async () => {
    // Approvers of their own, so that no other test depends on whose role this one takes away.
    await h.addUser('ivy', ['approver']);
    await h.addUser('jay', ['approver']);
    const pendingId = await h.createCampaign({ subject: 'Half approved', recipients: people(2, 'half') });
    const pendingHash = await h.submitCampaign(pendingId);
    await h.approveCampaign(pendingId, pendingHash, ['ivy']);
    const scheduledId = await h.createCampaign({ subject: 'Fully approved', recipients: people(2, 'full'), sendAt: later() });
    expect(await h.approveCampaign(scheduledId, await h.submitCampaign(scheduledId), ['ivy', 'jay'])).toBe('scheduled');

    const admin = await h.signIn('admin');
    const removed = await admin.post(`/admin/users/${h.users.ivy!.id}/roles`, { _csrf: await admin.csrf('/admin'), roles: 'author' });
    expect(removed.status).toBe(303);

    const pending = (await h.api('author', 'GET', `/campaigns/${pendingId}`)).body;
    expect(pending.approvals.approved).toBe(0);
    expect(pending.decisions).toEqual([
      expect.objectContaining({
        approver: expect.objectContaining({ email: h.users.ivy!.email }),
        voided: true,
        voidReason: 'approver_removed',
      }),
    ]);
    const scheduled = (await h.api('author', 'GET', `/campaigns/${scheduledId}`)).body;
    expect(scheduled.status).toBe('halted');
    expect(scheduled.haltReason).toMatch(/no longer make a quorum: Ivy Tester lost the approver role/);
    // Jay's approval alone, however often, is not a quorum of two.
    expect((await h.api('jay', 'POST', `/campaigns/${pendingId}/approve`, { contentHash: pendingHash })).body).toMatchObject({
      status: 'pending_approval',
      approvals: { approved: 1 },
    });
  });

  it('checks approvers again when sending starts: one who lost the role meanwhile stops the send', async () => {
    const { id, contentHash } = await h.approvedCampaign({ subject: 'Checked at start', recipients: people(2, 'start') });
    // The role goes some other way than through the admin page, so nothing voids the approval.
    await h.db
      .updateTable('users')
      .set({ roles: ['author'] })
      .where('id', '=', h.users.bob!.id)
      .execute();
    try {
      expect(await startCampaign(h.ctx, { campaignId: id, contentHash })).toBe('skipped');
      const campaign = (await h.api('author', 'GET', `/campaigns/${id}`)).body;
      expect(campaign.status).toBe('halted');
      expect(campaign.haltReason).toMatch(/do not make a quorum/);
      expect(campaign.deliveries.sent + campaign.deliveries.queued).toBe(0);
    } finally {
      await h.db
        .updateTable('users')
        .set({ roles: ['approver'] })
        .where('id', '=', h.users.bob!.id)
        .execute();
    }
  });

  it('refuses to send what was approved under another renderer', async () => {
    const { id, contentHash } = await h.approvedCampaign({ subject: 'Old renderer', recipients: people(2, 'old') });
    await h.db.updateTable('campaigns').set({ renderer_version: 1 }).where('id', '=', id).execute();
    expect(await startCampaign(h.ctx, { campaignId: id, contentHash })).toBe('skipped');
    const campaign = (await h.api('author', 'GET', `/campaigns/${id}`)).body;
    expect(campaign.status).toBe('halted');
    expect(campaign.haltReason).toMatch(/renderer version 1, and this version of Countersign renders version 2/);
    await h.flushNotifications();
    expect(h.sink.withSubject('Old renderer')).toHaveLength(0);
    expect(h.sink.withSubject('Halted automatically: Old renderer').length).toBeGreaterThan(0);
  });

  it('a deactivated person loses every way in at once, and their approvals of campaigns not yet sending are void', async () => {
    const carl = await h.addUser('carl', ['approver']);
    const id = await h.createCampaign({ subject: 'Carl approved', recipients: people(2, 'carl') });
    await h.approveCampaign(id, await h.submitCampaign(id), ['carl']);
    const carlsBrowser = await h.signIn('carl');
    expect((await carlsBrowser.get('/')).status).toBe(200);

    const admin = await h.signIn('admin');
    expect((await admin.post(`/admin/users/${carl.id}/deactivate`, { _csrf: await admin.csrf('/admin') })).status).toBe(303);
    expect((await h.api('carl', 'GET', '/me')).status).toBe(401);
    expect((await carlsBrowser.get('/')).status).toBe(303);
    expect((await h.api('author', 'GET', `/campaigns/${id}`)).body.approvals.approved).toBe(0);
  });
});

describe('with ROLE_GRANTS_NEED_SECOND_ADMIN', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await Harness.start({ workers: false, env: { ROLE_GRANTS_NEED_SECOND_ADMIN: 'true', ALLOWED_USER_DOMAINS: 'staff.example.com' } });
    await h.addUser('admin', ['admin']);
    await h.addUser('admin2', ['admin']);
  });
  afterAll(() => h?.stop());

  it('an admin cannot make an approver alone: the role waits for a second admin, and only a second admin can confirm it', async () => {
    const admin = await h.signIn('admin');
    const outside = await admin.post('/admin/users', [
      ['_csrf', await admin.csrf('/admin')],
      ['email', 'me@elsewhere.example.net'],
      ['name', 'Me Again'],
      ['roles', 'approver'],
    ]);
    expect(outside.status).toBe(403);
    expect(await outside.text()).toContain('people can only be added with an address on staff.example.com');

    const added = await admin.post('/admin/users', [
      ['_csrf', await admin.csrf('/admin')],
      ['email', 'gus@staff.example.com'],
      ['name', 'Gus Grant'],
      ['roles', 'approver'],
    ]);
    expect(added.headers.get('location')).toContain('notice=grant-requested');
    const gus = await h.db.selectFrom('users').selectAll().where('email', '=', 'gus@staff.example.com').executeTakeFirstOrThrow();
    expect(gus.roles).toEqual([]);
    const grant = await h.db.selectFrom('role_grants').selectAll().where('user_id', '=', gus.id).executeTakeFirstOrThrow();

    const byRequester = await admin.post(`/admin/grants/${grant.id}/confirm`, { _csrf: await admin.csrf('/admin') });
    expect(byRequester.status).toBe(409);
    expect((await h.db.selectFrom('users').select('roles').where('id', '=', gus.id).executeTakeFirstOrThrow()).roles).toEqual([]);

    await h.flushNotifications();
    expect(
      h.sink
        .withSubject('Role grant waiting for a second admin: gus@staff.example.com')
        .map((m) => m.envelopeTo[0])
        .sort(),
    ).toEqual([h.users.admin!.email, h.users.admin2!.email].sort());
    const second = await h.signIn('admin2');
    expect((await second.post(`/admin/grants/${grant.id}/confirm`, { _csrf: await second.csrf('/admin') })).status).toBe(303);
    expect((await h.db.selectFrom('users').select('roles').where('id', '=', gus.id).executeTakeFirstOrThrow()).roles).toEqual(['approver']);
  });
});
