import { recipientInput, type RecipientInput } from './inputs.js';

/**
 * Addresses pasted into the compose form, one per line: `ann@x.com`, `Ann Lee <ann@x.com>`
 * or `ann@x.com, Ann Lee`. A line holding several addresses, as mail clients copy them, is split
 * on `;` or `,`. Each bad line is reported by its number.
 */
export function parsePastedRecipients(text: string): { recipients: RecipientInput[]; errors: { line: number; message: string }[] } {
  const recipients: RecipientInput[] = [];
  const errors: { line: number; message: string }[] = [];
  const seen = new Set<string>();
  text.split(/\r?\n/).forEach((raw, index) => {
    for (const entry of entriesOf(raw.trim())) {
      const angle = /^(.*)<([^>]+)>$/.exec(entry);
      const [email, name] = angle
        ? [angle[2]!, angle[1]!.trim().replace(/^"|"$/g, '')]
        : (entry.split(/\s*[,;\t]\s*/) as [string, string?]);
      const parsed = recipientInput.safeParse({ email, name: name ?? '' });
      if (!parsed.success) {
        errors.push({ line: index + 1, message: `"${entry}": ${parsed.error.issues[0]!.message}` });
      } else if (!seen.has(parsed.data.email)) {
        seen.add(parsed.data.email);
        recipients.push(parsed.data);
      }
    }
  });
  return { recipients, errors };
}

// A lone `,` may part an address from its name, so only a line with more than one address is split:
// on `;` when it has one (Outlook, whose names may hold commas), else on `,` or tab.
function entriesOf(line: string): string[] {
  if ((line.match(/@/g) ?? []).length < 2) return line ? [line] : [];
  return line
    .split(line.includes(';') ? ';' : /[,\t]/)
    .map((entry) => entry.trim())
    .filter(Boolean);
}
