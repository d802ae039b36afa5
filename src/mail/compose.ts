import { emailDomain } from '../domain/addresses.js';
import { escapeHtml, mergeValues, renderMerge, type MergeRecipient } from '../domain/merge-fields.js';
import type { PreparedBody } from './body.js';
import { alternativeMessage, dateHeaderLine, headerLine, preparedHeaderLine } from './mime.js';
import { template } from './templates.js';

/** Keeps auto-replies and out-of-office storms away from a mass send (RFC 3834 and Exchange's own header). */
export const BULK_HEADERS = {
  'Auto-Submitted': 'auto-generated',
  'X-Auto-Response-Suppress': 'OOF, AutoReply',
  Precedence: 'bulk',
} as const;

export interface MessageContent {
  subject: string;
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

/** One recipient's message as their mail client shows it: the inbox line, the HTML and the text part. */
export interface RenderedMessage {
  from: { name: string; address: string };
  subject: string;
  preheader: string;
  html: string;
  text: string;
}

const PREHEADER_CHARS = 140;

/** Every inline style a rendered message can hold: the layout's own (the body's sanitiser allows none). */
export function messageInlineStyles(): string[] {
  return [...new Set(template('layout.html').attributeValues('style'))];
}

/**
 * The one rendering of a message for a recipient, used by the deliver step and by every
 * preview, so what approvers are shown is what each recipient gets.
 */
export function renderMessage(content: MessageContent, body: PreparedBody, to: MergeRecipient): RenderedMessage {
  const values = mergeValues(to);
  // A list field with a line break must not become a header of its own.
  const subject = renderMerge(content.subject, values).replace(/[\r\n]+/g, ' ');
  const preheader = renderMerge(body.preview, values).replace(/\s+/g, ' ').trim().slice(0, PREHEADER_CHARS);
  const html = template('layout.html').render({
    subject,
    preheader,
    content: renderMerge(body.html, values, escapeHtml),
    footer: `Sent to ${to.email} by ${content.fromName}.`,
  });
  return { from: { name: content.fromName, address: content.fromAddress }, subject, preheader, html, text: renderMerge(body.text, values) };
}

/** A message as the transport takes it: the envelope, its Message-ID and its MIME text. */
export interface OutgoingMessage {
  envelope: { from: string; to: string[] };
  messageId: string;
  raw: string;
}

/** The header lines every message of a sender shares: rendered once per window, not per recipient. */
export interface SenderHeaders {
  fromAddress: string;
  lines: readonly string[];
}

export function senderHeaders(content: MessageContent): SenderHeaders {
  return {
    fromAddress: content.fromAddress,
    lines: [
      ...Object.entries(BULK_HEADERS).map(([key, value]) => headerLine(key, value)),
      // Prepared: the address is validated, and encoding it would hide it from list filters.
      preparedHeaderLine('List-Id', listIdFor(content.fromAddress)),
      headerLine('From', { name: content.fromName, address: content.fromAddress }),
    ],
  };
}

/** The rendered message with what the transport needs: addresses, this recipient's Message-ID, threading and bulk headers. */
export function composeMessage(
  content: MessageContent,
  body: PreparedBody,
  to: Addressee,
  sender: SenderHeaders = senderHeaders(content),
): OutgoingMessage {
  const rendered = renderMessage(content, body, to);
  const threading = to.replyToMessageId
    ? [headerLine('In-Reply-To', to.replyToMessageId), headerLine('References', [to.replyToMessageId])]
    : [];
  const headers = [
    ...sender.lines,
    headerLine('To', to.name ? { name: to.name, address: to.email } : to.email),
    headerLine('Subject', rendered.subject),
    headerLine('Message-ID', to.messageId),
    ...threading,
    dateHeaderLine(new Date()),
  ];
  return {
    envelope: { from: sender.fromAddress, to: [to.email] },
    messageId: to.messageId,
    raw: alternativeMessage(headers, rendered.text, rendered.html),
  };
}
