import { z } from 'zod';
import * as shapes from '../domain/api-shapes.js';
import {
  campaignsQuery,
  createCampaignInput,
  deliveriesQuery,
  editCampaignInput,
  haltInput,
  membersQuery,
  newListInput,
  recipientInput,
  rejectInput,
  suppressionInput,
} from '../domain/inputs.js';
import { approveInput } from '../services/approvals.js';
import { ERROR_CODES } from '../services/errors.js';
import { recallInput } from '../services/recall.js';
import { haltRetractionInput, retractionItemsQuery } from '../services/retraction.js';
import { suppressionPaging } from '../services/suppressions.js';
import { testSendInput } from '../services/test-send.js';

/**
 * The API's reference, built from the zod schemas the routes parse with and the response shapes the
 * services' types come from. `API_OPERATIONS` must name every route of `apiRouter` (a test walks the
 * router to check), and the integration tests validate responses against the generated document.
 */
export interface ApiOperation {
  method: 'get' | 'post' | 'patch' | 'delete';
  /** Express style, relative to /api/v1: `/campaigns/:id`. */
  path: string;
  summary: string;
  who: string;
  query?: z.ZodObject;
  /** A JSON body; `alsoCsv` when the route also reads text/csv. */
  body?: z.ZodType;
  /** The body may be left out altogether. */
  bodyOptional?: true;
  alsoCsv?: string;
  status: 200 | 201 | 204;
  response?: z.ZodType;
  /** Other media types the success answer may come in. */
  responseCsv?: string;
  requestExample?: unknown;
  responseExample?: unknown;
}

const CAMPAIGN_EXAMPLE = {
  subject: 'Travel policy update',
  body: 'Hello {{firstName}},\n\nThe new travel policy applies from Monday.',
  audience: {
    listIds: ['5d9f0c3e-6f7a-4d3e-9d7e-2b8c1a0f4e11'],
    recipients: [{ email: 'ana@example.com', name: 'Ana Author', fields: { department: 'Sales' } }],
  },
  sendAt: '2030-01-06T09:00:00Z',
};
const HASH_EXAMPLE = '9f2c4e1a0b7d3c5e8f6a2b4c1d3e5f7a9b0c2d4e6f8a1b3c5d7e9f0a2b4c6d8e';

const membersImport = z.union([z.array(recipientInput), z.object({ members: z.array(recipientInput) })]);
const suppressionsImport = z.union([z.array(suppressionInput), z.object({ suppressions: z.array(suppressionInput) })]);

export const API_OPERATIONS: ApiOperation[] = [
  { method: 'get', path: '/me', summary: "The token's user", who: 'anyone', status: 200, response: shapes.meView },
  {
    method: 'post',
    path: '/lists',
    summary: 'Create a recipient list',
    who: 'author, admin',
    body: newListInput,
    status: 201,
    response: shapes.listView,
    requestExample: { name: 'All staff' },
  },
  { method: 'get', path: '/lists', summary: 'Every list with its member count', who: 'anyone', status: 200, response: shapes.listsView },
  { method: 'get', path: '/lists/:id', summary: 'One list', who: 'anyone', status: 200, response: shapes.listView },
  {
    method: 'post',
    path: '/lists/:id/members',
    who: 'author, admin',
    status: 200,
    response: shapes.importReport,
    summary: 'Import members (streamed, optionally gzip-encoded): one bad row and nothing is imported (400); past a cap, 413',
    body: membersImport,
    alsoCsv: 'email,name,department\nana@example.com,Ana Author,Sales\n',
    requestExample: [{ email: 'ana@example.com', name: 'Ana Author', fields: { department: 'Sales' } }],
    responseExample: { listId: '5d9f0c3e-6f7a-4d3e-9d7e-2b8c1a0f4e11', imported: 1, mergedDuplicates: 0, memberCount: 1 },
  },
  {
    method: 'get',
    path: '/lists/:id/members',
    summary: 'A page of members, searchable by address or name',
    who: 'anyone',
    query: membersQuery,
    status: 200,
    response: shapes.membersView,
  },
  {
    method: 'post',
    path: '/campaigns',
    summary: 'Create a draft',
    who: 'author',
    body: createCampaignInput,
    status: 201,
    response: shapes.campaignView,
    requestExample: CAMPAIGN_EXAMPLE,
  },
  {
    method: 'get',
    path: '/campaigns',
    summary: 'Campaigns, newest first, optionally by status',
    who: 'anyone',
    query: campaignsQuery,
    status: 200,
    response: shapes.campaignsView,
  },
  {
    method: 'get',
    path: '/campaigns/:id',
    summary: 'A campaign: status, content hash, approvals, delivery counts',
    who: 'anyone',
    status: 200,
    response: shapes.campaignView,
  },
  {
    method: 'patch',
    path: '/campaigns/:id',
    summary: 'Edit; a submitted campaign returns to draft and its approvals are voided',
    who: 'author',
    body: editCampaignInput,
    status: 200,
    response: shapes.campaignView,
    requestExample: { subject: 'Travel policy update (corrected)' },
  },
  {
    method: 'post',
    path: '/campaigns/:id/submit',
    summary: 'Freeze and hash; emails each eligible approver a review link',
    who: 'author',
    status: 200,
    response: shapes.campaignView,
  },
  {
    method: 'post',
    path: '/campaigns/:id/approve',
    summary: 'Approve the version you reviewed',
    who: 'approver',
    body: approveInput,
    status: 200,
    response: shapes.campaignView,
    requestExample: { contentHash: HASH_EXAMPLE },
  },
  {
    method: 'post',
    path: '/campaigns/:id/reject',
    summary: 'Reject: back to draft',
    who: 'approver',
    body: rejectInput,
    status: 200,
    response: shapes.campaignView,
    requestExample: { reason: 'The date in the second paragraph is wrong' },
  },
  {
    method: 'post',
    path: '/campaigns/:id/cancel',
    summary: 'Cancel before it sends',
    who: 'author, approver, admin',
    status: 200,
    response: shapes.campaignView,
  },
  {
    method: 'post',
    path: '/campaigns/:id/test-send',
    summary: 'The message as one recipient gets it, to you only, marked [Test]',
    who: 'author, approver, admin',
    body: testSendInput,
    bodyOptional: true,
    status: 200,
    response: shapes.testSendReport,
    requestExample: { recipient: 'ana@example.com' },
    responseExample: { sentTo: 'ben@example.com', renderedFor: 'ana@example.com' },
  },
  {
    method: 'post',
    path: '/campaigns/:id/halt',
    summary: 'Stop everything not yet handed to SMTP, before it returns',
    who: 'its author, approver, admin',
    body: haltInput,
    bodyOptional: true,
    status: 200,
    response: shapes.haltReport,
    requestExample: { reason: 'wrong audience' },
    responseExample: { campaignId: '0b6c3f2e-1d4a-4c8e-9f7b-3a2d1c0e9f8a', status: 'halted', inFlight: 2, stopped: 1480 },
  },
  {
    method: 'post',
    path: '/campaigns/:id/recall',
    summary: 'Halt what is left and create a correction to everyone the ledger says received it',
    who: 'its author, approver, admin',
    body: recallInput,
    bodyOptional: true,
    status: 201,
    response: shapes.recallReport,
    requestExample: { note: 'Please disregard the previous message.', subjectStyle: 'reply', retract: false },
  },
  {
    method: 'get',
    path: '/campaigns/:id/retraction',
    who: 'anyone',
    status: 200,
    response: shapes.retractionView,
    summary: "The campaign's retraction: status, what its dry run found, its ledger's counts, approvals and what it still needs",
  },
  {
    method: 'get',
    path: '/campaigns/:id/retraction/items',
    who: 'anyone',
    query: retractionItemsQuery,
    status: 200,
    response: shapes.retractionItemsView,
    summary: "The retraction's ledger, paged in seq order: each recipient's Message-ID, what the dry run found, what was done",
  },
  {
    method: 'post',
    path: '/campaigns/:id/retraction/approve',
    who: 'approver, admin (not its requester)',
    status: 200,
    response: shapes.retractionView,
    summary: "Approve the retraction after its dry run; it runs once the correction's number of approvers and an admin have",
  },
  {
    method: 'post',
    path: '/campaigns/:id/retraction/halt',
    who: 'its requester, approver, admin',
    body: haltRetractionInput,
    bodyOptional: true,
    status: 200,
    response: shapes.retractionHaltReport,
    summary: 'Stop the retraction: no further mailbox is touched',
    requestExample: { reason: 'wrong campaign' },
  },
  {
    method: 'post',
    path: '/campaigns/:id/continue',
    summary: 'Send the rest now, after a first wave',
    who: 'approver, admin',
    status: 200,
    response: shapes.campaignView,
  },
  {
    method: 'get',
    path: '/campaigns/:id/deliveries',
    summary: 'The ledger, paged in seq order, or whole as CSV (format=csv)',
    who: 'anyone',
    query: deliveriesQuery,
    status: 200,
    response: shapes.deliveriesView,
    responseCsv: 'seq,email,name,status,messageId,attempts,smtpResponse,claimedAt,finishedAt',
  },
  {
    method: 'get',
    path: '/campaigns/:id/audit',
    summary: "The campaign's audit events",
    who: 'anyone',
    status: 200,
    response: shapes.auditEventsView,
  },
  {
    method: 'post',
    path: '/halt-all',
    summary: 'Engage the global kill switch: halts everything scheduled or sending',
    who: 'approver, admin',
    body: haltInput,
    bodyOptional: true,
    status: 200,
    response: shapes.haltAllReport,
    requestExample: { reason: 'relay misbehaving' },
  },
  {
    method: 'post',
    path: '/resume-all',
    summary: 'Release the kill switch; halted campaigns still need a fresh approval',
    who: 'admin',
    status: 200,
    response: shapes.resumeAllReport,
  },
  {
    method: 'get',
    path: '/kill-switch',
    summary: 'Whether the kill switch is engaged, by whom and since when',
    who: 'anyone',
    status: 200,
    response: shapes.killSwitchView,
  },
  {
    method: 'post',
    path: '/suppressions',
    summary: 'Add people who left or opted out (CSV email,kind,reason or JSON); one bad row and nothing changes',
    who: 'admin',
    body: suppressionsImport,
    alsoCsv: 'email,kind,reason\nleft@example.com,left,left in May\n',
    status: 200,
    response: shapes.suppressionImportReport,
    requestExample: [{ email: 'left@example.com', kind: 'left', reason: 'left in May' }],
  },
  {
    method: 'get',
    path: '/suppressions',
    summary: 'The suppression list, paged',
    who: 'anyone',
    query: suppressionPaging,
    status: 200,
    response: shapes.suppressionsView,
  },
  { method: 'delete', path: '/suppressions/:email', summary: 'Remove one address from the suppression list', who: 'admin', status: 204 },
  {
    method: 'get',
    path: '/audit/verify',
    summary: 'Verify the whole hash chain and the signed checkpoints',
    who: 'admin',
    status: 200,
    response: shapes.auditReportView,
  },
];

export const errorBody = z.object({
  error: z.enum(ERROR_CODES),
  message: z.string(),
  issues: z
    .array(z.object({ field: z.string(), message: z.string() }))
    .describe('each bad field, named; empty when the refusal is not about a field'),
});

type JsonSchema = Record<string, unknown>;

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const converted = z.toJSONSchema(schema, {
    io,
    unrepresentable: 'any',
    override: (ctx) => {
      // A Date goes out as JSON.stringify writes it.
      if (ctx.zodSchema._zod.def.type === 'date') Object.assign(ctx.jsonSchema, { type: 'string', format: 'date-time' });
    },
  }) as JsonSchema;
  delete converted.$schema;
  return converted;
}

/** `/campaigns/:id` → `/campaigns/{id}` */
export const openApiPath = (path: string) => path.replace(/:(\w+)/g, '{$1}');

function operationObject(op: ApiOperation): JsonSchema {
  const pathParameters = [...op.path.matchAll(/:(\w+)/g)].map((m) => ({
    name: m[1],
    in: 'path',
    required: true,
    schema: { type: 'string' },
  }));
  const query = op.query ? jsonSchema(op.query, 'input') : null;
  const required = new Set((query?.required as string[] | undefined) ?? []);
  const queryParameters = Object.entries((query?.properties as Record<string, JsonSchema> | undefined) ?? {}).map(([name, schema]) => ({
    name,
    in: 'query',
    required: required.has(name),
    schema,
  }));
  const content: JsonSchema = {};
  if (op.body)
    content['application/json'] = {
      schema: jsonSchema(op.body, 'input'),
      ...(op.requestExample !== undefined ? { example: op.requestExample } : {}),
    };
  if (op.alsoCsv) content['text/csv'] = { schema: { type: 'string' }, example: op.alsoCsv };
  const success: JsonSchema = { description: op.status === 204 ? 'done; no body' : 'done' };
  if (op.response) {
    success.content = {
      'application/json': {
        schema: jsonSchema(op.response, 'output'),
        ...(op.responseExample !== undefined ? { example: op.responseExample } : {}),
      },
      ...(op.responseCsv ? { 'text/csv': { schema: { type: 'string' }, example: `${op.responseCsv}\n` } } : {}),
    };
  }
  const refusal = (description: string) => ({
    description,
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  });
  return {
    operationId: `${op.method}${op.path.replace(/\/:?(\w)([\w-]*)/g, (_m, first: string, rest: string) => first.toUpperCase() + rest.replace(/-(\w)/g, (_n, c: string) => c.toUpperCase()))}`,
    summary: op.summary,
    description: `Who: ${op.who}.`,
    parameters: [...pathParameters, ...queryParameters],
    ...(Object.keys(content).length ? { requestBody: { required: !op.bodyOptional, content } } : {}),
    responses: {
      [op.status]: success,
      400: refusal('bad input: each bad field named in `issues`; nothing changed'),
      401: refusal('no valid token'),
      403: refusal('the role does not allow it'),
      404: refusal('no such resource'),
      409: refusal('not allowed in its current state'),
      ...(op.body
        ? { 413: refusal('the body is over a cap'), 415: refusal('the body is not JSON (or CSV where the route takes CSV)') }
        : {}),
    },
  };
}

/** The OpenAPI 3.1 document for this deployment. */
export function openApiDocument(publicUrl: string): JsonSchema {
  const paths: Record<string, JsonSchema> = {};
  for (const op of API_OPERATIONS) {
    const path = openApiPath(op.path);
    paths[path] = { ...paths[path], [op.method]: operationObject(op) };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Countersign API',
      version: '1',
      description:
        'Two-person approval, scheduled send, halt and recall for mass internal email. JSON bodies (Content-Type: application/json) unless a route says CSV.',
    },
    servers: [{ url: `${publicUrl.replace(/\/$/, '')}/api/v1` }],
    security: [{ bearer: [] }],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'an API token from `countersign user add` or `token issue`' },
      },
      schemas: { Error: jsonSchema(errorBody, 'output') },
    },
    paths,
  };
}
