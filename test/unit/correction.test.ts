import { describe, expect, it } from 'vitest';
import { CAMPAIGN_STATUSES } from '../../src/domain/campaign-state.js';
import { correctionSubject, mayBeRecalled } from '../../src/domain/correction.js';

describe('correctionSubject', () => {
  it('reply style: Re: <original subject>', () => {
    expect(correctionSubject('Please delete the app', 'reply')).toBe('Re: Please delete the app');
  });

  it('does not stack Re: prefixes, whatever their case or spacing', () => {
    expect(correctionSubject('Re: Please delete the app', 'reply')).toBe('Re: Please delete the app');
    expect(correctionSubject('RE:re:  Please delete the app', 'reply')).toBe('Re: Please delete the app');
  });

  it('keeps Re: that is not a prefix', () => {
    expect(correctionSubject('About Re: something', 'reply')).toBe('Re: About Re: something');
  });

  it('sent-in-error style', () => {
    expect(correctionSubject('Re: Please delete the app', 'sent_in_error')).toBe('Sent in error: Please delete the app');
  });
});

describe('mayBeRecalled', () => {
  it('allows a recall once anything may have gone out: sending, sent or halted', () => {
    expect(CAMPAIGN_STATUSES.filter(mayBeRecalled)).toEqual(['sending', 'sent', 'halted']);
  });

  it('refuses it for a campaign that has reached nobody (cancel that instead)', () => {
    for (const status of ['draft', 'pending_approval', 'scheduled', 'cancelled'] as const) expect(mayBeRecalled(status)).toBe(false);
  });
});
