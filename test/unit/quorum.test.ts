import { describe, expect, it } from 'vitest';
import {
  correctionApprovals,
  evaluateQuorum,
  isContributor,
  refuseDecision,
  requiredApprovals,
  type ApprovalRecord,
  type QuorumInput,
} from '../../src/domain/quorum.js';

const HASH = 'a'.repeat(64);
const OLD_HASH = 'b'.repeat(64);

function approve(approverId: string, overrides: Partial<ApprovalRecord> = {}): ApprovalRecord {
  return {
    approverId,
    contentHash: HASH,
    decision: 'approve',
    voided: false,
    approverEligible: true,
    approverIsAdmin: false,
    ...overrides,
  };
}

function input(approvals: ApprovalRecord[], overrides: Partial<QuorumInput> = {}): QuorumInput {
  return {
    requiredApprovals: 2,
    contentHash: HASH,
    authorId: 'author',
    editorIds: ['author'],
    listContributorIds: [],
    approvals,
    adminApprover: false,
    ...overrides,
  };
}

describe('evaluateQuorum', () => {
  it('reaches quorum with two distinct independent approvers of the current hash', () => {
    const state = evaluateQuorum(input([approve('alice'), approve('bob')]));
    expect(state.reached).toBe(true);
    expect(state.required).toBe(2);
    expect([...state.approvedBy].sort()).toEqual(['alice', 'bob']);
  });

  it('one approval is not enough for a quorum of two', () => {
    const state = evaluateQuorum(input([approve('alice')]));
    expect(state.reached).toBe(false);
    expect(state.approvedBy).toEqual(['alice']);
  });

  it('no approvals: not reached', () => {
    expect(evaluateQuorum(input([]))).toEqual({ approvedBy: [], required: 2, reached: false });
  });

  it('counts distinct approvers: the same person twice counts once', () => {
    const state = evaluateQuorum(input([approve('alice'), approve('alice')]));
    expect(state.approvedBy).toEqual(['alice']);
    expect(state.reached).toBe(false);
  });

  it('the author never counts, even when not listed among the editors', () => {
    const state = evaluateQuorum(input([approve('author'), approve('alice')], { editorIds: [] }));
    expect(state.approvedBy).toEqual(['alice']);
    expect(state.reached).toBe(false);
  });

  it('an editor never counts', () => {
    const state = evaluateQuorum(input([approve('editor'), approve('alice')], { editorIds: ['author', 'editor'] }));
    expect(state.approvedBy).toEqual(['alice']);
    expect(state.reached).toBe(false);
  });

  it('someone who changed a list in the audience never counts', () => {
    const state = evaluateQuorum(input([approve('importer'), approve('alice')], { listContributorIds: ['importer'] }));
    expect(state.approvedBy).toEqual(['alice']);
    expect(state.reached).toBe(false);
  });

  it('an approval stops counting once its approver is deactivated or loses the role', () => {
    const state = evaluateQuorum(input([approve('alice'), approve('bob', { approverEligible: false })]));
    expect(state.approvedBy).toEqual(['alice']);
    expect(state.reached).toBe(false);
  });

  it('a sensitive list needs an admin among the approvers: without one, two approvals are not a quorum', () => {
    expect(evaluateQuorum(input([approve('alice'), approve('bob')], { adminApprover: true })).reached).toBe(false);
    expect(evaluateQuorum(input([approve('alice'), approve('cho', { approverIsAdmin: true })], { adminApprover: true })).reached).toBe(
      true,
    );
  });

  it('approvals for a stale content hash do not count', () => {
    const state = evaluateQuorum(input([approve('alice'), approve('bob', { contentHash: OLD_HASH })]));
    expect(state.approvedBy).toEqual(['alice']);
    expect(state.reached).toBe(false);
  });

  it('voided approvals do not count', () => {
    const state = evaluateQuorum(input([approve('alice'), approve('bob', { voided: true })]));
    expect(state.approvedBy).toEqual(['alice']);
    expect(state.reached).toBe(false);
  });

  it('rejections do not count as approvals', () => {
    const state = evaluateQuorum(input([approve('alice'), approve('bob', { decision: 'reject' })]));
    expect(state.approvedBy).toEqual(['alice']);
    expect(state.reached).toBe(false);
  });

  it('a voided old approval plus a fresh one by the same person counts once', () => {
    const state = evaluateQuorum(input([approve('alice', { contentHash: OLD_HASH, voided: true }), approve('alice'), approve('bob')]));
    expect([...state.approvedBy].sort()).toEqual(['alice', 'bob']);
    expect(state.reached).toBe(true);
  });

  it('nothing but distinct eligible approvals reaches a quorum, however many ineligible ones there are', () => {
    const approvals = [
      approve('author'),
      approve('editor'),
      approve('alice'),
      approve('alice'),
      approve('bob', { contentHash: OLD_HASH }),
      approve('carol', { voided: true }),
      approve('dave', { decision: 'reject' }),
    ];
    const state = evaluateQuorum(input(approvals, { editorIds: ['author', 'editor'] }));
    expect(state.approvedBy).toEqual(['alice']);
    expect(state.reached).toBe(false);
  });

  it('respects a higher required number', () => {
    const approvals = [approve('alice'), approve('bob')];
    expect(evaluateQuorum(input(approvals, { requiredApprovals: 3 })).reached).toBe(false);
    expect(evaluateQuorum(input([...approvals, approve('carol')], { requiredApprovals: 3 })).reached).toBe(true);
  });

  it('more approvals than required still reaches quorum', () => {
    expect(evaluateQuorum(input([approve('a1'), approve('a2'), approve('a3')])).reached).toBe(true);
  });
});

describe('refuseDecision', () => {
  it('allows an independent approver on the current hash (null)', () => {
    expect(refuseDecision(input([]), 'alice', HASH)).toBeNull();
  });

  it('allows a second, different approver after a first one decided', () => {
    expect(refuseDecision(input([approve('alice')]), 'bob', HASH)).toBeNull();
  });

  it('refuses the author: self_approval', () => {
    expect(refuseDecision(input([], { editorIds: [] }), 'author', HASH)?.code).toBe('self_approval');
  });

  it('calls the author self_approval even when the author is also among the editors', () => {
    expect(refuseDecision(input([], { editorIds: ['author'] }), 'author', HASH)?.code).toBe('self_approval');
  });

  it('refuses someone who edited the content: editor', () => {
    const refusal = refuseDecision(input([], { editorIds: ['author', 'eve'] }), 'eve', HASH);
    expect(refusal?.code).toBe('editor');
    expect(refusal?.message).toMatch(/edited/);
  });

  it('refuses someone who changed a list in the audience: list_contributor', () => {
    const refusal = refuseDecision(input([], { listContributorIds: ['dee'] }), 'dee', HASH);
    expect(refusal?.code).toBe('list_contributor');
    expect(refusal?.message).toMatch(/list/);
  });

  it('refuses a second approval by the same person on the same hash: duplicate', () => {
    expect(refuseDecision(input([approve('alice')]), 'alice', HASH)?.code).toBe('duplicate');
  });

  it('a rejection already given on this hash also makes a further decision a duplicate', () => {
    expect(refuseDecision(input([approve('alice', { decision: 'reject' })]), 'alice', HASH)?.code).toBe('duplicate');
  });

  it('a voided earlier decision is not a duplicate', () => {
    expect(refuseDecision(input([approve('alice', { voided: true })]), 'alice', HASH)).toBeNull();
  });

  it('a decision on an older hash is not a duplicate of one on the current hash', () => {
    expect(refuseDecision(input([approve('alice', { contentHash: OLD_HASH })]), 'alice', HASH)).toBeNull();
  });

  it('refuses a decision on a version that is no longer current: stale_hash', () => {
    const refusal = refuseDecision(input([]), 'alice', OLD_HASH);
    expect(refusal?.code).toBe('stale_hash');
    expect(refusal?.message.length).toBeGreaterThan(0);
  });

  it('every refusal carries a human message', () => {
    const refusals = [
      refuseDecision(input([]), 'author', HASH),
      refuseDecision(input([], { editorIds: ['eve'] }), 'eve', HASH),
      refuseDecision(input([approve('alice')]), 'alice', HASH),
      refuseDecision(input([]), 'alice', OLD_HASH),
    ];
    expect(refusals.map((r) => r?.code)).toEqual(['self_approval', 'editor', 'duplicate', 'stale_hash']);
    for (const r of refusals) expect(r?.message).toMatch(/\w+/);
  });
});

describe('isContributor', () => {
  it('is true for the author, editors and list contributors, false for anyone else', () => {
    const who = { authorId: 'author', editorIds: ['eve'], listContributorIds: ['dee'] };
    expect(isContributor(who, 'author')).toBe(true);
    expect(isContributor(who, 'eve')).toBe(true);
    expect(isContributor(who, 'dee')).toBe(true);
    expect(isContributor(who, 'alice')).toBe(false);
  });
});

describe('requiredApprovals', () => {
  it('uses the configured number when nothing is requested', () => {
    expect(requiredApprovals(2)).toBe(2);
    expect(requiredApprovals(2, null)).toBe(2);
    expect(requiredApprovals(2, undefined)).toBe(2);
  });

  it('a campaign may ask for more', () => {
    expect(requiredApprovals(2, 3)).toBe(3);
    expect(requiredApprovals(2, 20)).toBe(20);
  });

  it('never goes below the configured number', () => {
    for (let configured = 1; configured <= 6; configured++) {
      for (const requested of [null, undefined, -5, 0, 1, 2, 3, 4, 5, 6, 7, 10]) {
        const result = requiredApprovals(configured, requested);
        expect(result).toBeGreaterThanOrEqual(configured);
        expect(result).toBe(Math.max(configured, requested ?? configured));
      }
    }
  });
});

describe('correctionApprovals', () => {
  it('defaults to the policy quorum', () => {
    expect(correctionApprovals(2, undefined)).toBe(2);
    expect(correctionApprovals(3, undefined)).toBe(3);
  });

  it('uses its own setting when configured', () => {
    expect(correctionApprovals(2, 1)).toBe(1);
    expect(correctionApprovals(2, 4)).toBe(4);
  });

  it('never fewer than one approver', () => {
    expect(correctionApprovals(2, 0)).toBe(1);
    expect(correctionApprovals(0, undefined)).toBe(1);
    expect(correctionApprovals(2, -1)).toBe(1);
  });
});
