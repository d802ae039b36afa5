const FIELD_PATTERN = /\{\{\s*([A-Za-z][A-Za-z0-9_]*)\s*\}\}/g;

/** Fields every recipient has, whatever list they came from. */
export const BUILTIN_FIELDS = ['email', 'name', 'firstName', 'lastName'] as const;

export function mergeFieldsIn(...texts: string[]): string[] {
  const found = new Set<string>();
  for (const text of texts) for (const match of text.matchAll(FIELD_PATTERN)) found.add(match[1]!);
  return [...found].sort();
}

export interface MergeRecipient {
  email: string;
  name: string;
  fields: Record<string, string>;
}

export function mergeValues(recipient: MergeRecipient): Record<string, string> {
  const [firstName = '', ...rest] = recipient.name.trim().split(/\s+/);
  return {
    ...recipient.fields,
    email: recipient.email,
    name: recipient.name,
    firstName,
    lastName: rest.join(' '),
  };
}

/** Replaces `{{field}}`; `escape` guards HTML output. A missing value renders as empty text. */
export function renderMerge(template: string, values: Record<string, string>, escape: (value: string) => string = (v) => v): string {
  // Own properties only: {{constructor}} must not reach Object.prototype.
  return template.replace(FIELD_PATTERN, (_, name: string) => escape(Object.hasOwn(values, name) ? values[name]! : ''));
}

export function escapeHtml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/**
 * Fields the message uses that some recipients cannot fill.
 * `coverage` maps a custom field to how many snapshot recipients carry it.
 */
export function unfilledMergeFields(
  used: readonly string[],
  coverage: ReadonlyMap<string, number>,
  recipientCount: number,
): { field: string; missing: number }[] {
  const builtins: readonly string[] = BUILTIN_FIELDS;
  return used
    .filter((field) => !builtins.includes(field))
    .map((field) => ({ field, missing: recipientCount - (coverage.get(field) ?? 0) }))
    .filter(({ missing }) => missing > 0);
}

/** What an audience offers a message: how many recipients, and per field any of them has, how many have it non-empty. */
export interface AudienceFields {
  recipients: number;
  filled: ReadonlyMap<string, number>;
}

export interface MergeFieldFindings {
  /** Fields no recipient has: a typo, or a column the chosen lists lack. Each would render as blank. */
  unknown: { field: string; suggestion: string | null }[];
  /** Fields some recipients have empty; submit refuses a list column anyone lacks, a built-in field just renders blank. */
  empty: { field: string; empty: number; refusedAtSubmit: boolean }[];
}

/** The fields a message can use with this audience: the built-in ones, then the lists' columns. */
export function availableFields(audience: AudienceFields): string[] {
  const builtins: readonly string[] = BUILTIN_FIELDS;
  return [...BUILTIN_FIELDS, ...[...audience.filled.keys()].filter((field) => !builtins.includes(field)).sort()];
}

/** Edits (insert, delete, substitute) from one word to the other, ignoring case. */
function editDistance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let previous = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const current = [i];
    for (let j = 1; j <= y.length; j++)
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (x[i - 1] === y[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[y.length]!;
}

/** The available field a typo most likely meant: the nearest within two edits, if one is. */
function likelyMeant(field: string, available: readonly string[]): string | null {
  const ranked = available
    .map((candidate) => ({ candidate, distance: editDistance(field, candidate) }))
    .filter(({ distance }) => distance <= 2);
  ranked.sort((a, b) => a.distance - b.distance);
  return ranked[0]?.candidate ?? null;
}

/**
 * Which merge fields of a message would render blank: those no recipient of the audience has
 * (with the field it most likely meant), and those some recipients have empty. Compose shows
 * these as the author types and before submit.
 */
export function checkMergeFields(used: readonly string[], audience: AudienceFields): MergeFieldFindings {
  const available = availableFields(audience);
  const builtins: readonly string[] = BUILTIN_FIELDS;
  const unknown = used.filter((field) => !available.includes(field)).map((field) => ({ field, suggestion: likelyMeant(field, available) }));
  const empty = used
    .filter((field) => available.includes(field))
    .map((field) => ({
      field,
      empty: audience.recipients - (audience.filled.get(field) ?? audience.recipients),
      refusedAtSubmit: !builtins.includes(field),
    }))
    .filter(({ empty }) => empty > 0);
  return { unknown, empty };
}
