import { describe, expect, it } from 'vitest';
import {
  CAMPAIGN_STATUSES,
  IllegalTransitionError,
  canTransition,
  nextStatus,
  statusesAllowing,
  type CampaignAction,
  type CampaignStatus,
} from '../../src/domain/campaign-state.js';

// The whole life of a campaign, written out independently of the implementation
// (DESIGN.md, "The life of a campaign"). Anything not in this table must be refused.
const STATUSES: readonly CampaignStatus[] = ['draft', 'pending_approval', 'scheduled', 'sending', 'sent', 'halted', 'cancelled'];

const EXPECTED: Record<CampaignAction, Partial<Record<CampaignStatus, CampaignStatus>>> = {
  // any edit returns the campaign to draft (and voids approvals)
  edit: { draft: 'draft', pending_approval: 'draft', scheduled: 'draft' },
  // a halted campaign resumes only through a fresh submission and quorum
  submit: { draft: 'pending_approval', halted: 'pending_approval' },
  // a single rejection returns the campaign to its author
  reject: { pending_approval: 'draft' },
  reach_quorum: { pending_approval: 'scheduled' },
  cancel: { draft: 'cancelled', pending_approval: 'cancelled', scheduled: 'cancelled' },
  start: { scheduled: 'sending' },
  finish: { sending: 'sent' },
  halt: { scheduled: 'halted', sending: 'halted' },
};

const ACTIONS = Object.keys(EXPECTED) as CampaignAction[];

const legal: [CampaignStatus, CampaignAction, CampaignStatus][] = [];
const illegal: [CampaignStatus, CampaignAction][] = [];
for (const status of STATUSES) {
  for (const action of ACTIONS) {
    const to = EXPECTED[action][status];
    if (to) legal.push([status, action, to]);
    else illegal.push([status, action]);
  }
}

describe('campaign state machine', () => {
  it('knows exactly the statuses the table in this test covers', () => {
    expect([...CAMPAIGN_STATUSES].sort()).toEqual([...STATUSES].sort());
  });

  describe.each(legal)('legal: %s --%s-->', (from, action, to) => {
    it(`nextStatus gives ${to}`, () => {
      expect(nextStatus(from, action)).toBe(to);
    });
    it('canTransition says yes', () => {
      expect(canTransition(from, action)).toBe(true);
    });
  });

  describe.each(illegal)('illegal: %s --%s-->', (from, action) => {
    it('nextStatus throws IllegalTransitionError carrying the status and action', () => {
      let caught: unknown;
      try {
        nextStatus(from, action);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(IllegalTransitionError);
      expect(caught).toBeInstanceOf(Error);
      const error = caught as IllegalTransitionError;
      expect(error.from).toBe(from);
      expect(error.action).toBe(action);
    });
    it('canTransition says no', () => {
      expect(canTransition(from, action)).toBe(false);
    });
  });

  it('sent and cancelled are terminal: no action leaves them', () => {
    for (const terminal of ['sent', 'cancelled'] as const) {
      for (const action of ACTIONS) expect(canTransition(terminal, action)).toBe(false);
    }
  });

  it('nothing moves a campaign to sending or sent except start and finish', () => {
    const into = (target: CampaignStatus) =>
      CAMPAIGN_STATUSES.flatMap((from) =>
        ACTIONS.filter((action) => canTransition(from, action) && nextStatus(from, action) === target).map(
          (action) => `${from} --${action}-->`,
        ),
      );
    expect(into('sending')).toEqual(['scheduled --start-->']);
    expect(into('sent')).toEqual(['sending --finish-->']);
  });

  it('the error message names the action and the status in words', () => {
    expect(() => nextStatus('draft', 'reach_quorum')).toThrow('cannot reach quorum a campaign that is draft');
    expect(() => nextStatus('pending_approval', 'start')).toThrow('cannot start a campaign that is pending approval');
    expect(() => nextStatus('sent', 'halt')).toThrow('cannot halt a campaign that is sent');
  });

  describe('statusesAllowing (for WHERE status IN (...))', () => {
    it.each(ACTIONS)('%s: exactly the statuses the table allows it from', (action) => {
      const expected = STATUSES.filter((s) => EXPECTED[action][s] !== undefined);
      expect([...statusesAllowing(action)].sort()).toEqual([...expected].sort());
    });

    it('returns a fresh array each time (callers cannot corrupt the table)', () => {
      const first = statusesAllowing('cancel');
      first.push('sent');
      expect(statusesAllowing('cancel')).not.toContain('sent');
      expect(canTransition('sent', 'cancel')).toBe(false);
    });
  });
});
