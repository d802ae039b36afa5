import { findList } from '../db/lists.js';
import { audienceFieldFill, sampleOfAudience } from '../db/campaigns.js';
import type { AudienceSpec, CampaignRow } from '../db/schema.js';
import { availableFields, checkMergeFields, mergeFieldsIn, type MergeFieldFindings, type MergeRecipient } from '../domain/merge-fields.js';
import { bodyProblems, linksIn, prepareBody, type MessageLink } from '../mail/body.js';
import { messageInlineStyles, renderMessage, type RenderedMessage } from '../mail/compose.js';
import type { AppContext } from './context.js';

type PreviewContent = Pick<CampaignRow, 'subject' | 'body_markdown' | 'from_address' | 'from_name'>;

export interface RecipientPreview extends RenderedMessage {
  recipient: MergeRecipient;
  links: MessageLink[];
}

/** The message exactly as this recipient gets it, through the same renderer the deliver step uses. */
export function previewFor(content: PreviewContent, recipient: MergeRecipient): RecipientPreview {
  const rendered = renderMessage(
    { subject: content.subject, fromAddress: content.from_address, fromName: content.from_name },
    prepareBody(content.body_markdown),
    recipient,
  );
  return { ...rendered, recipient, links: linksIn(rendered.html) };
}

/** The inline styles a message preview needs: a page that shows one must let these, and only these, apply. */
export function previewInlineStyles(): string[] {
  return messageInlineStyles();
}

export interface DraftPreview {
  count: number;
  html: string | null;
  /** What saving would refuse in the body, line by line. */
  problems: string[];
  /** The merge fields this audience offers, built-in ones first. */
  fields: string[];
  /** The message's merge fields that would render blank for some or all of the audience. */
  mergeFields: MergeFieldFindings;
}

/** For compose: how many the audience would reach, and the message for a sample recipient; nothing is frozen. */
export async function previewDraft(
  ctx: AppContext,
  draft: { subject: string; body: string; audience: AudienceSpec },
): Promise<DraftPreview> {
  const known = await Promise.all(draft.audience.listIds.map((id) => findList(ctx.db, id)));
  const spec = { listIds: known.flatMap((list) => (list ? [list.id] : [])), recipients: draft.audience.recipients };
  const [audience, sample] = await Promise.all([audienceFieldFill(ctx.db, spec), sampleOfAudience(ctx.db, spec)]);
  const checked = {
    count: audience.recipients,
    problems: bodyProblems(draft.body).map((p) => `line ${p.line}: ${p.message}`),
    fields: availableFields(audience),
    mergeFields: checkMergeFields(mergeFieldsIn(draft.subject, draft.body), audience),
  };
  if (!sample || !draft.body) return { ...checked, html: null };
  const content = {
    subject: draft.subject,
    body_markdown: draft.body,
    from_address: ctx.config.DEFAULT_FROM,
    from_name: ctx.config.DEFAULT_FROM_NAME,
  };
  return { ...checked, html: previewFor(content, sample).html };
}
