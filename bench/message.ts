import type Mail from 'nodemailer/lib/mailer/index.js';
import { prepareBody } from '../src/mail/body.js';
import { BULK_HEADERS, listIdFor, renderMessage, type MessageContent } from '../src/mail/compose.js';

/** Every recipient of the benchmark is on this domain; the sink counts only them. */
export const AUDIENCE_DOMAIN = 'bench.example.com';

/** A realistic policy message: a subject and a few paragraphs with merge fields. */
export const CONTENT: MessageContent & { bodyMarkdown: string } = {
  subject: 'Correction: the travel policy for {{firstName}}',
  bodyMarkdown: [
    '# Travel policy correction',
    '',
    'Hello {{firstName}},',
    '',
    'Yesterday we sent you a message about the new travel policy that contained an error. ' +
      'The booking limit for hotels is **150 per night**, not 50 as stated. Nothing else has changed.',
    '',
    'If you have already booked a trip under the wrong limit, you do not need to do anything: ' +
      'the finance team will reconcile those bookings automatically before the end of the month.',
    '',
    '- Flights: economy for trips under six hours',
    '- Trains: first class is allowed for journeys over three hours',
    '- Meals: receipts are needed above 25',
    '',
    'We are sorry for the confusion. Questions go to travel@example.com.',
  ].join('\n'),
  fromAddress: 'internal-comms@example.com',
  fromName: 'Internal Communications',
};

export function recipient(i: number): { email: string; name: string; fields: Record<string, string> } {
  return { email: `employee${i}@${AUDIENCE_DOMAIN}`, name: `Person${i} Number${i}`, fields: {} };
}

const BODY = prepareBody(CONTENT.bodyMarkdown);

/**
 * What the pipeline sends recipient `i`, in the parts nodemailer's composer takes: the baseline
 * is raw nodemailer, composing the same message itself as an application would.
 */
export function composedFor(i: number): Mail.Options {
  const { email, name, fields } = recipient(i);
  const rendered = renderMessage(CONTENT, BODY, { email, name, fields });
  return {
    from: rendered.from,
    to: { name, address: email },
    subject: rendered.subject,
    html: rendered.html,
    text: rendered.text,
    messageId: `<bench.${i}@example.com>`,
    envelope: { from: CONTENT.fromAddress, to: [email] },
    headers: { ...BULK_HEADERS, 'List-Id': { prepared: true, value: listIdFor(CONTENT.fromAddress) } },
  };
}
