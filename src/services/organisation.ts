import { emailDomain } from '../domain/addresses.js';
import type { CampaignRow } from '../db/schema.js';
import type { AppContext } from './context.js';

/** The organisation's own mail domains: ORGANISATION_DOMAINS, else the campaign's sender's. */
export function ownDomainsOf(ctx: Pick<AppContext, 'config'>, campaign: Pick<CampaignRow, 'from_address'>): string[] {
  return ctx.config.ORGANISATION_DOMAINS ?? [emailDomain(campaign.from_address).toLowerCase()];
}
