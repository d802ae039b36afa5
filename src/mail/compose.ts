import { marked } from 'marked';
import type Mail from 'nodemailer/lib/mailer/index.js';
import { emailDomain } from '../domain/addresses.js';
import { escapeHtml, mergeValues, renderMerge, type MergeRecipient } from '../domain/merge-fields.js';
import { template } from './templates.js';

/** Keeps auto-replies and out-of-office storms away from a mass send (RFC 3834 and Exchange's own header). */
export const BULK_HEADERS = {
  'Auto-Submitted': 'auto-generated',
  'X-Auto-Response-Suppress': 'OOF, AutoReply',
  Precedence: 'bulk',
} as const;

export interface MessageContent {
  subject: string;
  bodyMarkdown: string;
  fromAddress: string;
  fromName: string;
}

export interface Addressee extends MergeRecipient {
  messageId: string;
  replyToMessageId: string | null;
}

/** A stable List-Id per sender, so recipients' filters and clients treat the sender's mail as one stream. */
export function listIdFor(fromAddress: string): string {
  const [local] = fromAddress.split('@');
  return `"Countersign: ${fromAddress}" <${local!.replace(/[^A-Za-z0-9-]/g, '-')}.countersign.${emailDomain(fromAddress)}>`;
}

/** The body rendered once, with merge fields still in place: per recipient only the fields change. */
export function renderBodyHtml(bodyMarkdown: string): string {
  return marked.parse(bodyMarkdown, { async: false, gfm: true });
}

export function previewText(bodyMarkdown: string): string {
  const firstLine = bodyMarkdown.split('\n').find((line) => line.trim() !== '') ?? '';
  return firstLine.replace(/[#*_>`[\]]/g, '').trim().slice(0, 140);
}

export function composeMessage(content: MessageContent, bodyHtml: string, to: Addressee): Mail.Options {
  const values = mergeValues(to);
  // A list field with a line break must not become a header of its own.
  const subject = renderMerge(content.subject, values).replace(/[\r\n]+/g, " ");
  const html = template('layout.html').render({
    subject,
    preheader: renderMerge(previewText(content.bodyMarkdown), values),
    content: renderMerge(bodyHtml, values, escapeHtml),
    footer: `Sent to ${to.email} by ${content.fromName}.`,
  });
  const threading = to.replyToMessageId ? { inReplyTo: to.replyToMessageId, references: [to.replyToMessageId] } : {};
  return {
    from: { name: content.fromName, address: content.fromAddress },
    to: to.name ? { name: to.name, address: to.email } : to.email,
    subject,
    html,
    text: renderMerge(content.bodyMarkdown, values),
    messageId: to.messageId,
    envelope: { from: content.fromAddress, to: [to.email] },
    // Prepared: the address is validated, and encoding it would hide it from list filters.
    headers: { ...BULK_HEADERS, 'List-Id': { prepared: true, value: listIdFor(content.fromAddress) } },
    ...threading,
  };
}
