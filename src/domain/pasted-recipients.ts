import { recipientInput, type RecipientInput } from './inputs.js';

/**
 * Addresses pasted into the compose form, one per line: `ann@x.com`, `Ann Lee <ann@x.com>`
 * or `ann@x.com, Ann Lee`. Each bad line is reported by its number.
 */
export function parsePastedRecipients(text: string): { recipients: RecipientInput[]; errors: { line: number; message: string }[] } {
  const recipients: RecipientInput[] = [];
  const errors: { line: number; message: string }[] = [];
  const seen = new Set<string>();
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (!line) return;
    const angle = /^(.*)<([^>]+)>$/.exec(line);
    const [email, name] = angle ? [angle[2]!, angle[1]!.trim().replace(/^"|"$/g, '')] : (line.split(/\s*[,;\t]\s*/) as [string, string?]);
    const parsed = recipientInput.safeParse({ email, name: name ?? '' });
    if (!parsed.success) {
      errors.push({ line: index + 1, message: `"${line}": ${parsed.error.issues[0]!.message}` });
    } else if (!seen.has(parsed.data.email)) {
      seen.add(parsed.data.email);
      recipients.push(parsed.data);
    }
  });
  return { recipients, errors };
}
