// RFC 3264/6337 offer/answer state, RFC 3261 §14 / RFC 3311 §5.2 request-pending verdicts, §14.1 glare timers.
import { describe, expect, it } from 'vitest';
import { IllegalTransitionError } from '../../../gateway/lib/state-machine.js';
import {
  OfferAnswer,
  glareRetryDelay,
  retryAfterSeconds,
} from '../../../gateway/sip/ua/offer-answer.js';

const fixed = (v: number) => () => v;

describe('RFC 6337 §2 placements', () => {
  it('INVITE offer, 2xx answer', () => {
    const oa = new OfferAnswer();
    expect(oa.onMessage('received', 'INVITE', true)).toBe('offer');
    expect(oa.state).toBe('remote-offer');
    expect(oa.outstanding).toEqual({ by: 'received', in: 'INVITE' });
    expect(oa.onMessage('sent', 'INVITE-1xx', true)).toBe('early-answer');
    expect(oa.state).toBe('remote-offer');
    expect(oa.onMessage('sent', 'INVITE-2xx', true)).toBe('answer');
    expect(oa.state).toBe('stable');
    oa.onFinal('received', 'INVITE', 200);
    expect(oa.onMessage('received', 'ACK', true)).toBe('unexpected');
  });

  it('late offer: INVITE without SDP, offer in our 2xx, answer in the ACK', () => {
    const oa = new OfferAnswer();
    expect(oa.onMessage('received', 'INVITE', false)).toBe('none');
    expect(oa.lateOfferDue('received')).toBe(true);
    expect(oa.onMessage('sent', 'INVITE-2xx', true)).toBe('offer');
    expect(oa.lateOfferDue('received')).toBe(false);
    oa.onFinal('received', 'INVITE', 200);
    expect(oa.state).toBe('local-offer');
    expect(oa.onMessage('received', 'ACK', true)).toBe('answer');
    expect(oa.state).toBe('stable');
  });

  it('reliable 1xx: answer in the 1xx-rel, the 2xx repeats it; offer in a 1xx-rel answered in PRACK', () => {
    const a = new OfferAnswer();
    a.onMessage('sent', 'INVITE', true);
    expect(a.onMessage('received', 'INVITE-1xx-rel', true)).toBe('answer');
    expect(a.onMessage('received', 'INVITE-2xx', true)).toBe('repeat');
    const b = new OfferAnswer();
    b.onMessage('sent', 'INVITE', false);
    expect(b.onMessage('received', 'INVITE-1xx-rel', true)).toBe('offer');
    expect(b.onMessage('sent', 'PRACK', true)).toBe('answer');
    expect(b.onMessage('sent', 'UPDATE', true)).toBe('offer');
    expect(b.onMessage('received', 'UPDATE-2xx', true)).toBe('answer');
  });

  it('offer in PRACK answered in its 2xx; SDP in a 2xx to UPDATE with no offer is unexpected', () => {
    const oa = new OfferAnswer();
    expect(oa.onMessage('received', 'PRACK', true)).toBe('offer');
    expect(oa.onMessage('sent', 'PRACK-2xx', true)).toBe('answer');
    expect(oa.onMessage('received', 'UPDATE-2xx', true)).toBe('unexpected');
    expect(oa.state).toBe('stable');
  });

  it('a second offer while one is outstanding is unexpected, and the answer must come from the other side', () => {
    const oa = new OfferAnswer();
    oa.onMessage('sent', 'UPDATE', true);
    expect(oa.onMessage('received', 'UPDATE', true)).toBe('unexpected');
    expect(oa.onMessage('sent', 'UPDATE-2xx', true)).toBe('unexpected');
    expect(oa.state).toBe('local-offer');
  });

  it('uses the one state-machine helper: change events, illegal moves throw', () => {
    const oa = new OfferAnswer();
    const moves: string[] = [];
    oa.machine.onChange((c) => moves.push(`${c.from}>${c.to}`));
    oa.onMessage('sent', 'INVITE', true);
    oa.onMessage('received', 'INVITE-2xx', true);
    expect(moves).toEqual(['stable>local-offer', 'local-offer>stable']);
    expect(() => oa.machine.to('stable')).toThrow(IllegalTransitionError);
  });
});

describe('request pending (RFC 3261 §14.2, RFC 3311 §5.2)', () => {
  it('re-INVITE while our INVITE runs → 491; while theirs runs → 500 with Retry-After 0..10', () => {
    const oa = new OfferAnswer();
    oa.onMessage('sent', 'INVITE', true);
    expect(oa.checkIncoming('INVITE', true, fixed(0.5))).toEqual({ accept: false, status: 491 });
    expect(oa.canSend('INVITE', true)).toBe(false);
    oa.onFinal('sent', 'INVITE', 491);
    expect(oa.state).toBe('stable');
    expect(oa.checkIncoming('INVITE', true, fixed(0.5))).toEqual({ accept: true });
    oa.onMessage('received', 'INVITE', false);
    expect(oa.checkIncoming('INVITE', true, fixed(0.99))).toEqual({ accept: false, status: 500, retryAfter: 10 });
    expect(oa.canSend('INVITE', false)).toBe(false);
  });

  it('UPDATE with an offer: 491 when our offer is outstanding, 500+Retry-After when theirs is; without SDP always', () => {
    const oa = new OfferAnswer();
    oa.onMessage('sent', 'UPDATE', true);
    expect(oa.checkIncoming('UPDATE', true, fixed(0))).toEqual({ accept: false, status: 491 });
    expect(oa.checkIncoming('UPDATE', false, fixed(0))).toEqual({ accept: true });
    expect(oa.canSend('UPDATE', true)).toBe(false);
    expect(oa.canSend('UPDATE', false)).toBe(true);
    const b = new OfferAnswer();
    b.onMessage('received', 'INVITE', true);
    expect(b.checkIncoming('UPDATE', true, fixed(0))).toEqual({ accept: false, status: 500, retryAfter: 0 });
  });

  it('an UPDATE before our final response to the previous UPDATE → 500 with Retry-After', () => {
    const oa = new OfferAnswer();
    oa.onMessage('received', 'UPDATE', false);
    expect(oa.checkIncoming('UPDATE', false, fixed(0.3))).toEqual({ accept: false, status: 500, retryAfter: 3 });
    oa.onFinal('received', 'UPDATE', 200);
    expect(oa.checkIncoming('UPDATE', false, fixed(0.3))).toEqual({ accept: true });
  });

  it('a re-INVITE while our UPDATE offer is outstanding → 491 (RFC 3311 §5.2 by analogy)', () => {
    const oa = new OfferAnswer();
    oa.onMessage('sent', 'UPDATE', true);
    expect(oa.checkIncoming('INVITE', false, fixed(0))).toEqual({ accept: false, status: 491 });
  });

  it('non-2xx to a re-INVITE or UPDATE leaves the session as it was; a 2xx does not roll back', () => {
    const oa = new OfferAnswer();
    oa.onMessage('received', 'UPDATE', true);
    oa.onFinal('received', 'UPDATE', 488);
    expect(oa.state).toBe('stable');
    oa.onMessage('sent', 'INVITE', false);
    oa.onMessage('received', 'INVITE-2xx', true);
    oa.onFinal('sent', 'INVITE', 200);
    expect(oa.state).toBe('remote-offer');
    oa.onFinal('sent', 'UPDATE', 500);
    expect(oa.state).toBe('remote-offer');
    expect(oa.onMessage('sent', 'ACK', true)).toBe('answer');
    expect(oa.canSend('INVITE', true)).toBe(true);
  });
});

describe('RFC 3261 §14.1 glare retry timer', () => {
  it('Call-ID owner: 2.1–4 s in 10 ms units; otherwise 0–2 s', () => {
    expect(glareRetryDelay(true, fixed(0))).toBe(2100);
    expect(glareRetryDelay(true, fixed(0.999999))).toBe(4000);
    expect(glareRetryDelay(false, fixed(0))).toBe(0);
    expect(glareRetryDelay(false, fixed(0.999999))).toBe(2000);
    for (let i = 0; i < 200; i++) {
      const r = i / 200;
      const own = glareRetryDelay(true, fixed(r));
      const other = glareRetryDelay(false, fixed(r));
      expect(own % 10).toBe(0);
      expect(other % 10).toBe(0);
      expect(own).toBeGreaterThanOrEqual(2100);
      expect(other).toBeLessThanOrEqual(2000);
    }
    expect(retryAfterSeconds(fixed(0))).toBe(0);
    expect(retryAfterSeconds(fixed(0.999999))).toBe(10);
  });
});
