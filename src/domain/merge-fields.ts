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
export function renderMerge(
  template: string,
  values: Record<string, string>,
  escape: (value: string) => string = (v) => v,
): string {
  // Own properties only: {{constructor}} must not reach Object.prototype.
  return template.replace(FIELD_PATTERN, (_, name: string) => escape(Object.hasOwn(values, name) ? values[name]! : ''));
}

export function escapeHtml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
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
