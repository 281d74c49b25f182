// Stateless nonces (sip/auth/nonce.ts): 28 characters (a challenge must fit in a small UDP request's size),
// the issue time recovered to the millisecond, any change to any character refused.
import { describe, expect, it } from 'vitest';
import { issueNonce, NonceCountTracker, nonceIssuedAt } from '../../../gateway/sip/auth/nonce.js';
import { rng } from '../../support/rng.js';

const SECRET = Buffer.alloc(32, 7);
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

describe('nonce', () => {
  it('is 28 base64url characters and carries its issue time to the millisecond', () => {
    const t = Date.UTC(2031, 4, 6, 7, 8, 9, 123);
    const nonce = issueNonce(SECRET, 'gateway', t);
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{28}$/);
    expect(nonceIssuedAt(SECRET, 'gateway', nonce)).toBe(t);
  });

  it('is refused under another realm or secret, and after any one-character change (seeded)', () => {
    const nonce = issueNonce(SECRET, 'gateway', 1_700_000_000_000);
    expect(nonceIssuedAt(SECRET, 'other', nonce)).toBeUndefined();
    expect(nonceIssuedAt(Buffer.alloc(32, 8), 'gateway', nonce)).toBeUndefined();
    const next = rng(8);
    for (let i = 0; i < 2000; i++) {
      const at = Math.floor(next() * nonce.length);
      const c = ALPHABET[Math.floor(next() * ALPHABET.length)]!;
      const changed = nonce.slice(0, at) + c + nonce.slice(at + 1);
      if (changed === nonce) continue;
      // The last character's low bits are padding in base64url: a change there may decode to the same bytes.
      const same = Buffer.from(changed, 'base64url').equals(Buffer.from(nonce, 'base64url'));
      expect(nonceIssuedAt(SECRET, 'gateway', changed) === undefined || same).toBe(true);
    }
    expect(nonceIssuedAt(SECRET, 'gateway', nonce.slice(1))).toBeUndefined();
    expect(nonceIssuedAt(SECRET, 'gateway', `${nonce}AAAA`)).toBeUndefined();
  });
});

describe('NonceCountTracker: expired nonces leave from the front, no scan per new nonce', () => {
  it('forgets expired entries as new nonces arrive, and never forgets a live one while there is room', () => {
    const tracker = new NonceCountTracker(1000);
    for (let i = 0; i < 5000; i++) {
      // One new nonce per ms, each living 300 ms: at most ~300 are live at any time.
      expect(tracker.accept(`n${i}`, 1, i, i + 300, i)).toBe('ok');
      expect(tracker.size).toBeLessThanOrEqual(301);
    }
    // A live nonce's count is still tracked (replay caught), an expired one's is gone.
    expect(tracker.accept('n4999', 1, 4999, 5299, 5000)).toBe('replay');
    expect(tracker.accept('n4999', 2, 4999, 5299, 5000)).toBe('ok');
  });
});
