import { findList } from '../db/lists.js';
import { countAudience, sampleOfAudience } from '../db/campaigns.js';
import type { AudienceSpec, CampaignRow } from '../db/schema.js';
import { composeMessage, renderBodyHtml } from '../mail/compose.js';
import type { MergeRecipient } from '../domain/merge-fields.js';
import type { AppContext } from './context.js';

type PreviewContent = Pick<CampaignRow, 'subject' | 'body_markdown' | 'from_address' | 'from_name'>;

/** The HTML part exactly as this recipient gets it, through the same composer the deliver step uses. */
export function renderForRecipient(content: PreviewContent, recipient: MergeRecipient): string {
  const message = composeMessage(
    { subject: content.subject, bodyMarkdown: content.body_markdown, fromAddress: content.from_address, fromName: content.from_name },
    renderBodyHtml(content.body_markdown),
    { ...recipient, messageId: '<preview@countersign>', replyToMessageId: null },
  );
  return String(message.html);
}

export interface DraftPreview {
  count: number;
  html: string | null;
}

/** For compose: how many the audience would reach, and the message for a sample recipient; nothing is frozen. */
export async function previewDraft(ctx: AppContext, draft: { subject: string; body: string; audience: AudienceSpec }): Promise<DraftPreview> {
  const known = await Promise.all(draft.audience.listIds.map((id) => findList(ctx.db, id)));
  const spec = { listIds: known.flatMap((list) => (list ? [list.id] : [])), recipients: draft.audience.recipients };
  const [count, sample] = await Promise.all([countAudience(ctx.db, spec), sampleOfAudience(ctx.db, spec)]);
  if (!sample || !draft.body) return { count, html: null };
  const content = { subject: draft.subject, body_markdown: draft.body, from_address: ctx.config.DEFAULT_FROM, from_name: ctx.config.DEFAULT_FROM_NAME };
  return { count, html: renderForRecipient(content, sample) };
}
