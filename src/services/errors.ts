import type { z } from 'zod';

export interface FieldIssue {
  field: string;
  message: string;
}

/** Every code a caller can meet in `{ error: code }`: a closed list, so clients can switch on it. */
export const ERROR_CODES = [
  // 400
  'invalid_input',
  'malformed_json',
  'usage',
  // 401, 403
  'unauthenticated',
  'forbidden',
  'csrf',
  'wrong_approver',
  'self_approval',
  'editor',
  'list_contributor',
  'own_roles',
  'domain_not_allowed',
  'sign_in_invalid',
  'sign_in_used',
  'sign_in_expired',
  'sign_in_other_browser',
  'sign_in_code',
  // 404
  'not_found',
  // 409
  'illegal_transition',
  'not_pending',
  'duplicate',
  'stale_hash',
  'link_used',
  'link_expired',
  'link_edited',
  'link_closed',
  'not_enough_approvers',
  'recalled',
  'already_recalled',
  'not_recallable',
  'retraction_off',
  'user_exists',
  'list_exists',
  // 413, 415, 429, 500, 503
  'too_large',
  'unsupported_media_type',
  'list_too_large',
  'rate_limited',
  'internal',
  'unavailable',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** A refusal the caller can act on. Carries the HTTP status the API answers with. */
export class AppError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 429 | 503,
    readonly code: ErrorCode,
    message: string,
    readonly issues: FieldIssue[] = [],
  ) {
    super(message);
  }
}

export const notFound = (what: string) => new AppError(404, 'not_found', `${what} not found`);
export const forbidden = (message: string) => new AppError(403, 'forbidden', message);
export const conflict = (code: ErrorCode, message: string) => new AppError(409, code, message);

export function invalid(issues: FieldIssue[]): AppError {
  const summary = issues.map((i) => `${i.field}: ${i.message}`).join('; ');
  return new AppError(400, 'invalid_input', summary, issues);
}

export function issuesFromZod(error: z.ZodError, prefix = ''): FieldIssue[] {
  return error.issues.map((issue) => ({
    field: [prefix, ...issue.path.map(String)].filter(Boolean).join('.') || '(body)',
    message: issue.message,
  }));
}

/** Parses untrusted input with a schema or throws a 400 naming each bad field. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, prefix = ''): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw invalid(issuesFromZod(result.error, prefix));
  return result.data;
}
