// Call waiting policy (gateway/call/waiting.ts): a user in a call is rung again unless callWaiting is off
// or their maxCalls is reached (486 Busy Here from the gateway); the calls each user is in are counted.
import { describe, expect, it } from 'vitest';
import type { UserConfig } from '../../../gateway/config/schema.js';
import { BUSY_HERE, UserLines, waitingDecision } from '../../../gateway/call/waiting.js';

const user = (extra: Record<string, unknown> = {}): UserConfig => ({ name: 'alice', password: 'x', dids: [], ...extra }) as unknown as UserConfig;

describe('call waiting: the decision', () => {
  it('rings a free user normally and a busy one as waiting (callWaiting absent = true)', () => {
    expect(waitingDecision(user(), 0)).toEqual({ ring: true, waiting: false });
    expect(waitingDecision(user(), 1)).toEqual({ ring: true, waiting: true });
    expect(waitingDecision(user({ callWaiting: true }), 3)).toEqual({ ring: true, waiting: true });
  });

  it('answers 486 to a busy user with callWaiting: false, never to a free one', () => {
    expect(waitingDecision(user({ callWaiting: false }), 0)).toEqual({ ring: true, waiting: false });
    expect(waitingDecision(user({ callWaiting: false }), 1)).toEqual({ ring: false, final: BUSY_HERE, why: 'call waiting off' });
    expect(BUSY_HERE).toEqual({ status: 486, reason: 'Busy Here' });
  });

  it('answers 486 at users[].maxCalls (0: no limit)', () => {
    expect(waitingDecision(user({ maxCalls: 2 }), 1)).toEqual({ ring: true, waiting: true });
    expect(waitingDecision(user({ maxCalls: 2 }), 2)).toEqual({ ring: false, final: BUSY_HERE, why: 'call limit' });
    expect(waitingDecision(user({ maxCalls: 1 }), 1)).toMatchObject({ ring: false, why: 'call limit' });
    expect(waitingDecision(user({ maxCalls: 0 }), 9)).toEqual({ ring: true, waiting: true });
  });
});

describe('call waiting: the calls each user is in', () => {
  it('counts per user, releases once, and counts a user calling themselves once', () => {
    const lines = new UserLines<string>();
    lines.hold('c1', ['alice']);
    lines.hold('c2', ['alice', 'bob']);
    lines.hold('c2', ['alice', 'bob']); // the same call again: no change
    lines.hold('c3', ['bob', 'bob']);
    expect([lines.count('alice'), lines.count('bob'), lines.count('carol')]).toEqual([2, 2, 0]);
    lines.release('c2');
    lines.release('c2');
    expect([lines.count('alice'), lines.count('bob')]).toEqual([1, 1]);
    lines.release('c1');
    lines.release('c3');
    lines.release('never');
    expect([lines.count('alice'), lines.count('bob')]).toEqual([0, 0]);
  });
});
