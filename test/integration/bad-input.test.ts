import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness } from '../support/harness.js';

interface Issue {
  field: string;
  message: string;
}
type ApiResult = Awaited<ReturnType<Harness['api']>>;

describe('bad input gets a clear 4xx naming the field, and changes nothing', () => {
  let h: Harness;
  let staffListId: string;
  let emptyListId: string;

  const valid = () => ({
    subject: 'Travel policy update',
    body: '# Travel policy\n\nHello {{firstName}}, the new travel policy starts on Monday.',
    audience: { recipients: [{ email: 'dana@corp.example.com', name: 'Dana Scully' }] },
  });

  beforeAll(async () => {
    // Workers stay off: nothing leaves on its own, so "no approval request went out" is checked
    // by the notify queue staying empty and by delivering whatever it holds by hand.
    h = await Harness.start({ workers: false });
    await h.addAuthorAndApprovers();
    await h.addUser('admin', ['admin']);
    const staff = await h.api('author', 'POST', '/lists', { name: 'Staff' });
    expect(staff.status).toBe(201);
    staffListId = staff.body.id;
    const imported = await h.api('author', 'POST', `/lists/${staffListId}/members`, [
      { email: 'fox@corp.example.com', name: 'Fox Mulder' },
      { email: 'walter@corp.example.com', name: 'Walter Skinner' },
    ]);
    expect(imported.body).toMatchObject({ memberCount: 2 });
    const empty = await h.api('author', 'POST', '/lists', { name: 'Nobody yet' });
    emptyListId = empty.body.id;
  });
  afterAll(() => h?.stop());

  /** Everything a refused request could have touched, as the system of record and the API show it. */
  async function everything() {
    const count = async (table: 'campaign_recipients' | 'approval_links' | 'list_members' | 'lists' | 'campaign_editors' | 'deliveries') =>
      Number(
        (
          await h.db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const listed = await h.api('author', 'GET', '/campaigns?limit=1000');
    expect(listed.status).toBe(200);
    return {
      campaignsViaApi: (listed.body.campaigns as { id: string; status: string; updatedAt: string }[]).map((c) => ({
        id: c.id,
        status: c.status,
        updatedAt: c.updatedAt,
      })),
      campaigns: await h.db.selectFrom('campaigns').selectAll().orderBy('id').execute(),
      approvals: await h.db.selectFrom('approvals').selectAll().orderBy('id').execute(),
      audit: await h.db.selectFrom('audit_events').select(['id', 'action', 'campaign_id', 'hash']).orderBy('id').execute(),
      snapshots: await count('campaign_recipients'),
      approvalLinks: await count('approval_links'),
      editors: await count('campaign_editors'),
      deliveries: await count('deliveries'),
      lists: await count('lists'),
      listMembers: await count('list_members'),
      notifyJobs: await h.ctx.queues.notify.getJobCounts('waiting', 'delayed', 'prioritized', 'active', 'completed', 'failed'),
      startJobs: await h.ctx.queues.dispatch.getJobCounts('waiting', 'delayed', 'prioritized', 'active', 'completed', 'failed'),
    };
  }

  /** Runs a request that must be refused, and checks that the world looks exactly as before. */
  async function refusedWithoutChange(request: () => Promise<ApiResult>): Promise<ApiResult> {
    const before = await everything();
    const response = await request();
    expect(await everything()).toEqual(before);
    return response;
  }

  function expectIssues(response: ApiResult, status: number, error: string, fields: string[]): Issue[] {
    expect(response.status, response.text).toBe(status);
    expect(response.body.error).toBe(error);
    expect(typeof response.body.message).toBe('string');
    const issues = response.body.issues as Issue[];
    expect(issues.map((i) => i.field).sort()).toEqual([...fields].sort());
    for (const issue of issues) expect(issue.message.length).toBeGreaterThan(0);
    return issues;
  }

  const issueFor = (issues: Issue[], field: string) => issues.find((i) => i.field === field)!;

  async function draft(overrides: Record<string, unknown> = {}) {
    const created = await h.api('author', 'POST', '/campaigns', { ...valid(), ...overrides });
    expect(created.status, created.text).toBe(201);
    expect(created.body.status).toBe('draft');
    return created.body as { id: string; status: string };
  }

  const auditActions = async (id: string) => {
    const audit = await h.api('author', 'GET', `/campaigns/${id}/audit`);
    return (audit.body.events as { action: string }[]).map((e) => e.action);
  };

  it('refuses an invalid email address in explicit recipients', async () => {
    const first = await refusedWithoutChange(() =>
      h.api('author', 'POST', '/campaigns', {
        ...valid(),
        audience: { recipients: [{ email: 'dana(at)corp.example.com', name: 'Dana Scully' }] },
      }),
    );
    const issues = expectIssues(first, 400, 'invalid_input', ['audience.recipients.0.email']);
    expect(issueFor(issues, 'audience.recipients.0.email').message).toMatch(/not a valid email address/);

    const third = await refusedWithoutChange(() =>
      h.api('author', 'POST', '/campaigns', {
        ...valid(),
        audience: {
          recipients: [
            { email: 'dana@corp.example.com', name: 'Dana Scully' },
            { email: 'fox@corp.example.com', name: 'Fox Mulder' },
            { email: 'walter@corp', name: 'Walter Skinner' },
          ],
        },
      }),
    );
    expectIssues(third, 400, 'invalid_input', ['audience.recipients.2.email']);
  });

  it('refuses CR/LF in the subject (header injection)', async () => {
    for (const subject of ['Travel policy\r\nBcc: everyone@corp.example.com', 'Travel policy\nX-Priority: 1', 'Travel\rpolicy']) {
      const response = await refusedWithoutChange(() => h.api('author', 'POST', '/campaigns', { ...valid(), subject }));
      const issues = expectIssues(response, 400, 'invalid_input', ['subject']);
      expect(issueFor(issues, 'subject').message).toMatch(/line breaks/);
    }
  });

  it('refuses CR/LF in a recipient name (header injection)', async () => {
    const response = await refusedWithoutChange(() =>
      h.api('author', 'POST', '/campaigns', {
        ...valid(),
        audience: { recipients: [{ email: 'dana@corp.example.com', name: 'Dana\r\nBcc: everyone@corp.example.com' }] },
      }),
    );
    const issues = expectIssues(response, 400, 'invalid_input', ['audience.recipients.0.name']);
    expect(issueFor(issues, 'audience.recipients.0.name').message).toMatch(/line breaks/);
  });

  it('refuses an unknown merge field at submit: the campaign stays a draft and no approval request goes out', async () => {
    const campaign = await draft({ subject: 'Colour survey', body: 'Hello {{firstName}}, your favourite colour is {{favouriteColour}}.' });
    // Other tests' submissions may have left approval requests queued: send them now, so any mail after this point is this submit's.
    await h.flushNotifications();
    const mailBefore = h.sink.messages.length;
    const before = await h.api('author', 'GET', `/campaigns/${campaign.id}`);

    const submitted = await refusedWithoutChange(() => h.api('author', 'POST', `/campaigns/${campaign.id}/submit`));
    const issues = expectIssues(submitted, 400, 'invalid_input', ['body']);
    expect(issueFor(issues, 'body').message).toContain('{{favouriteColour}}');

    const after = await h.api('author', 'GET', `/campaigns/${campaign.id}`);
    expect(after.body).toEqual(before.body);
    expect(after.body).toMatchObject({
      status: 'draft',
      contentHash: null,
      recipientCount: null,
      submittedAt: null,
      approvals: { approved: 0 },
    });
    expect(await auditActions(campaign.id)).toEqual(['campaign.create']);

    // Whatever the notify queue holds goes to SMTP now, as the worker would send it: nothing.
    await h.flushNotifications();
    expect(h.sink.messages.slice(mailBefore)).toEqual([]);
    expect(h.sink.withSubject(/Colour survey/)).toEqual([]);
  });

  it('names the subject when the unknown merge field is in the subject', async () => {
    const campaign = await draft({ subject: 'Policy for {{favouriteColour}} fans', body: 'Hello {{firstName}}.' });
    const submitted = await refusedWithoutChange(() => h.api('author', 'POST', `/campaigns/${campaign.id}/submit`));
    const issues = expectIssues(submitted, 400, 'invalid_input', ['subject']);
    expect(issueFor(issues, 'subject').message).toContain('{{favouriteColour}}');
    expect((await h.api('author', 'GET', `/campaigns/${campaign.id}`)).body.status).toBe('draft');
  });

  it('refuses a malformed JSON body with malformed_json', async () => {
    const broken = '{"subject": "Travel policy update", "body": "Hello", ';
    const created = await refusedWithoutChange(() => h.api('author', 'POST', '/campaigns', broken, { 'content-type': 'application/json' }));
    expectIssues(created, 400, 'malformed_json', ['(body)']);
    expect(created.body.message).toMatch(/not valid JSON/);

    const campaign = await draft();
    const before = await h.api('author', 'GET', `/campaigns/${campaign.id}`);
    const patched = await refusedWithoutChange(() =>
      h.api('author', 'PATCH', `/campaigns/${campaign.id}`, "{subject: 'single quotes'}", { 'content-type': 'application/json' }),
    );
    expectIssues(patched, 400, 'malformed_json', ['(body)']);
    expect((await h.api('author', 'GET', `/campaigns/${campaign.id}`)).body).toEqual(before.body);
  });

  it('refuses wrong types, naming each field', async () => {
    const cases: [Record<string, unknown>, string[]][] = [
      [{ subject: 42 }, ['subject']],
      [{ sendAt: 'tomorrow' }, ['sendAt']],
      [{ audience: 'everyone' }, ['audience']],
      [{ requiredApprovals: '3' }, ['requiredApprovals']],
      [{ subject: 42, sendAt: 'tomorrow', audience: 'everyone' }, ['subject', 'sendAt', 'audience']],
    ];
    for (const [overrides, fields] of cases) {
      const response = await refusedWithoutChange(() => h.api('author', 'POST', '/campaigns', { ...valid(), ...overrides }));
      expectIssues(response, 400, 'invalid_input', fields);
    }
  });

  it('refuses an unknown extra field (strict), saying which one', async () => {
    const response = await refusedWithoutChange(() => h.api('author', 'POST', '/campaigns', { ...valid(), priority: 'high' }));
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('invalid_input');
    const issues = response.body.issues as Issue[];
    expect(issues).toHaveLength(1);
    expect(`${issues[0]!.field} ${issues[0]!.message}`).toContain('priority');

    const nested = await refusedWithoutChange(() =>
      h.api('author', 'POST', '/campaigns', {
        ...valid(),
        audience: { recipients: [{ email: 'dana@corp.example.com', name: 'Dana', department: 'X-Files' }] },
      }),
    );
    expect(nested.status).toBe(400);
    const nestedIssues = nested.body.issues as Issue[];
    expect(nestedIssues).toHaveLength(1);
    expect(nestedIssues[0]!.field).toMatch(/^audience\.recipients\.0/);
    expect(`${nestedIssues[0]!.field} ${nestedIssues[0]!.message}`).toContain('department');
  });

  it('refuses duplicate addresses in explicit recipients, even written differently', async () => {
    const response = await refusedWithoutChange(() =>
      h.api('author', 'POST', '/campaigns', {
        ...valid(),
        audience: {
          recipients: [
            { email: 'dana@corp.example.com', name: 'Dana Scully' },
            { email: 'fox@corp.example.com', name: 'Fox Mulder' },
            { email: '  Dana@Corp.Example.COM ', name: 'Dana again' },
          ],
        },
      }),
    );
    const issues = expectIssues(response, 400, 'invalid_input', ['audience.recipients.2.email']);
    expect(issueFor(issues, 'audience.recipients.2.email').message).toMatch(/duplicate.*dana@corp\.example\.com/);
  });

  it('refuses to submit an empty audience', async () => {
    for (const audience of [{}, { listIds: [emptyListId] }]) {
      const campaign = await draft({ audience });
      const before = await h.api('author', 'GET', `/campaigns/${campaign.id}`);
      const submitted = await refusedWithoutChange(() => h.api('author', 'POST', `/campaigns/${campaign.id}/submit`));
      const issues = expectIssues(submitted, 400, 'invalid_input', ['audience']);
      expect(issueFor(issues, 'audience').message).toMatch(/empty/);
      expect((await h.api('author', 'GET', `/campaigns/${campaign.id}`)).body).toEqual(before.body);
      expect(await auditActions(campaign.id)).toEqual(['campaign.create']);
    }
  });

  it('refuses an unknown list id', async () => {
    const created = await refusedWithoutChange(() =>
      h.api('author', 'POST', '/campaigns', { ...valid(), audience: { listIds: [staffListId, 'no-such-list'] } }),
    );
    const issues = expectIssues(created, 400, 'invalid_input', ['audience.listIds.1']);
    expect(issueFor(issues, 'audience.listIds.1').message).toContain('no-such-list');
  });

  it('a PATCH with bad input leaves a draft exactly as it was', async () => {
    const campaign = await draft({ audience: { listIds: [staffListId] }, sendAt: '2030-01-06T09:00:00Z' });
    const before = await h.api('author', 'GET', `/campaigns/${campaign.id}`);
    const cases: [Record<string, unknown>, string][] = [
      [{ subject: 'Changed\r\nBcc: everyone@corp.example.com' }, 'subject'],
      [{ subject: '   ' }, 'subject'],
      [{ body: '' }, 'body'],
      [{ sendAt: 'tomorrow' }, 'sendAt'],
      [{ audience: { recipients: [{ email: 'not-an-address', name: 'Nobody' }] } }, 'audience.recipients.0.email'],
      [{ audience: { recipients: [{ email: 'dana@corp.example.com', name: 'Dana\nScully' }] } }, 'audience.recipients.0.name'],
      [{ audience: { listIds: ['no-such-list'] } }, 'audience.listIds.0'],
      [{ fromAddress: 'comms at corp' }, 'fromAddress'],
      [{ subject: 'Fine subject', sendAt: 'next week' }, 'sendAt'],
    ];
    for (const [patch, field] of cases) {
      const response = await refusedWithoutChange(() => h.api('author', 'PATCH', `/campaigns/${campaign.id}`, patch));
      expectIssues(response, 400, 'invalid_input', [field]);
    }
    const empty = await refusedWithoutChange(() => h.api('author', 'PATCH', `/campaigns/${campaign.id}`, {}));
    expect(empty.status).toBe(400);
    expect((empty.body.issues as Issue[])[0]!.message).toMatch(/nothing to change/);

    expect((await h.api('author', 'GET', `/campaigns/${campaign.id}`)).body).toEqual(before.body);
    expect(await auditActions(campaign.id)).toEqual(['campaign.create']);
  });

  it('a PATCH with bad input keeps a submitted campaign pending with its approvals', async () => {
    const campaign = await draft();
    const submitted = await h.api('author', 'POST', `/campaigns/${campaign.id}/submit`);
    expect(submitted.status).toBe(200);
    const approved = await h.api('alice', 'POST', `/campaigns/${campaign.id}/approve`, { contentHash: submitted.body.contentHash });
    expect(approved.body).toMatchObject({ status: 'pending_approval', approvals: { approved: 1, required: 2 } });
    const before = await h.api('author', 'GET', `/campaigns/${campaign.id}`);

    const injected = await refusedWithoutChange(() =>
      h.api('author', 'PATCH', `/campaigns/${campaign.id}`, { subject: 'Travel\r\nBcc: all@corp.example.com' }),
    );
    expectIssues(injected, 400, 'invalid_input', ['subject']);
    const unknownList = await refusedWithoutChange(() =>
      h.api('author', 'PATCH', `/campaigns/${campaign.id}`, { audience: { listIds: ['no-such-list'] } }),
    );
    expectIssues(unknownList, 400, 'invalid_input', ['audience.listIds.0']);

    const after = await h.api('author', 'GET', `/campaigns/${campaign.id}`);
    expect(after.body).toEqual(before.body);
    expect(after.body).toMatchObject({ status: 'pending_approval', contentHash: submitted.body.contentHash, approvals: { approved: 1 } });
    expect(await auditActions(campaign.id)).toEqual(['campaign.create', 'campaign.submit', 'campaign.approve']);
  });

  it('answers 401 without a token and with a bad token', async () => {
    const attempts: [string, Record<string, string>][] = [
      ['no token', {}],
      ['unknown token', { authorization: 'Bearer cs_this-is-not-a-real-token' }],
      ['not a bearer token', { authorization: `Basic ${Buffer.from('author:secret').toString('base64')}` }],
      ['empty bearer', { authorization: 'Bearer ' }],
    ];
    for (const [what, headers] of attempts) {
      const created = await refusedWithoutChange(() => h.api(null, 'POST', '/campaigns', valid(), headers));
      expect(created.status, what).toBe(401);
      expect(created.body.error, what).toBe('unauthenticated');
      const listed = await h.api(null, 'GET', '/campaigns', undefined, headers);
      expect(listed.status, what).toBe(401);
      expect(listed.body.campaigns, what).toBeUndefined();
    }
  });

  it('answers 403 when an approver-only user creates a campaign', async () => {
    const response = await refusedWithoutChange(() => h.api('alice', 'POST', '/campaigns', valid()));
    expect(response.status).toBe(403);
    expect(response.body.error).toBe('forbidden');
    expect(response.body.message).toMatch(/author/);
  });

  it('answers 403 when an admin-only user approves: admins get no bypass', async () => {
    const campaign = await draft();
    const submitted = await h.api('author', 'POST', `/campaigns/${campaign.id}/submit`);
    expect(submitted.body.status).toBe('pending_approval');
    const before = await h.api('author', 'GET', `/campaigns/${campaign.id}`);

    const approve = await refusedWithoutChange(() =>
      h.api('admin', 'POST', `/campaigns/${campaign.id}/approve`, { contentHash: submitted.body.contentHash }),
    );
    expect(approve.status).toBe(403);
    expect(approve.body.error).toBe('forbidden');
    expect(approve.body.message).toMatch(/approver/);
    const reject = await refusedWithoutChange(() =>
      h.api('admin', 'POST', `/campaigns/${campaign.id}/reject`, { reason: 'I am the admin' }),
    );
    expect(reject.status).toBe(403);

    const after = await h.api('author', 'GET', `/campaigns/${campaign.id}`);
    expect(after.body).toEqual(before.body);
    expect(after.body).toMatchObject({ status: 'pending_approval', approvals: { approved: 0, required: 2 }, decisions: [] });
  });

  it('answers 404 for an unknown campaign', async () => {
    for (const id of [randomUUID(), 'not-a-campaign-id']) {
      const requests: [string, string, unknown][] = [
        ['GET', `/campaigns/${id}`, undefined],
        ['PATCH', `/campaigns/${id}`, { subject: 'New subject' }],
        ['POST', `/campaigns/${id}/submit`, undefined],
        ['POST', `/campaigns/${id}/cancel`, undefined],
        ['GET', `/campaigns/${id}/audit`, undefined],
        ['GET', `/campaigns/${id}/deliveries`, undefined],
      ];
      for (const [method, path, body] of requests) {
        const response = await refusedWithoutChange(() => h.api('author', method, path, body));
        expect(response.status, `${method} ${path}`).toBe(404);
        expect(response.body.error, `${method} ${path}`).toBe('not_found');
        expect(response.body.message, `${method} ${path}`).toMatch(/campaign not found/);
      }
      const approve = await refusedWithoutChange(() => h.api('alice', 'POST', `/campaigns/${id}/approve`, { contentHash: 'a'.repeat(64) }));
      expect(approve.status).toBe(404);
      const reject = await refusedWithoutChange(() => h.api('alice', 'POST', `/campaigns/${id}/reject`, { reason: 'no' }));
      expect(reject.status).toBe(404);
    }
  });
});
