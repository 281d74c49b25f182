// Phone (web/phone.js + line.js + calls.js) with several calls, against the scripted sip.js: a second
// call rings while one is up (call waiting); Accept holds the active call (re-INVITE, hold) before it
// answers; Swap holds one and resumes the other; hanging up one leaves the other; do-not-disturb → 486.
import { afterEach, describe, expect, it, vi } from 'vitest';

vi.mock('sip.js', async () => (await import('./fake-sipjs.js')).fakeSipJs);

import type { Phone } from '../../../web/phone.js';
import { callLine, establishedCall, fake, registeredPhone, resetFakeSipJsEachTest, response, settle } from './phone-harness.js';

resetFakeSipJsEachTest();
afterEach(() => vi.restoreAllMocks());

const FROM = { from: ['"Carrier Caller" <sip:5557777@127.0.0.1>;tag=77'] };

function invite(headers: Record<string, string[]> = FROM): any {
  const inv = new fake.Session();
  inv.headers = headers;
  fake.UserAgent.last.options.delegate.onInvite(inv);
  return inv;
}

/** Answers re-INVITE number `n` of `session` (1 = the first after its INVITE / answer) with `status`. */
async function answerReinvite(session: any, n: number, status = 200): Promise<{ hold: boolean }> {
  await vi.waitFor(() => expect(session.invite.mock.calls.length).toBeGreaterThan(n - (session.isInvitation ? 1 : 0)));
  const opts = session.invite.mock.calls[n - (session.isInvitation ? 1 : 0)][0];
  if (status === 200) opts.requestDelegate.onAccept(response(200, 'OK'));
  else opts.requestDelegate.onReject(response(status));
  return { hold: opts.sessionDescriptionHandlerOptions.hold };
}

/** alice in call with 1002 (outgoing) and a waiting call from the carrier answered: first held, second current. */
async function twoCalls(): Promise<{ phone: Phone; out: any; inc: any }> {
  const { phone, inv: out } = await establishedCall();
  const inc = invite();
  inc.isInvitation = true;
  const accepting = phone.accept();
  expect(await answerReinvite(out, 1)).toEqual({ hold: true });
  await accepting;
  expect(inc.accept).toHaveBeenCalled();
  inc.stateChange.emit('Established');
  return { phone, out, inc };
}

describe('web/phone: call waiting', () => {
  it('a second call rings as waiting (no 486): the first stays current and in call', async () => {
    const { phone, inv: out } = await establishedCall();
    const inc = invite();
    expect(inc.reject).not.toHaveBeenCalled();
    expect(phone.call.state).toBe('in-call');
    expect(callLine(phone)).toBe('In call with 1002');
    expect(phone.incoming.state).toBe('ringing');
    expect(phone.callerId).toEqual({ number: '5557777', displayName: 'Carrier Caller' });
    expect(phone.calls().map((c) => [c.peer, c.state, c.current, c.waiting, c.label])).toEqual([
      ['1002', 'in-call', true, false, 'In call with 1002'],
      ['Carrier Caller (5557777)', 'incoming', false, true, 'Call waiting: Carrier Caller (5557777)'],
    ]);
    expect(out.invite).toHaveBeenCalledTimes(1); // nothing sent on the first call yet
  });

  it('Accept holds the active call first (re-INVITE with hold), then answers; the answered call is current', async () => {
    const { phone, out, inc } = await twoCalls();
    expect(phone.calls().map((c) => [c.peer, c.hold, c.current])).toEqual([
      ['1002', 'held', false],
      ['Carrier Caller (5557777)', 'active', true],
    ]);
    expect(callLine(phone)).toBe('In call with Carrier Caller (5557777)');
    expect(out.sessionDescriptionHandler.enableReceiverTracks).toHaveBeenLastCalledWith(false);
    expect(inc.invite).not.toHaveBeenCalled();
  });

  it('a hold the first call refuses (488) leaves the waiting call ringing, unanswered', async () => {
    const { phone, inv: out } = await establishedCall();
    const inc = invite();
    const accepting = phone.accept();
    await answerReinvite(out, 1, 488);
    await expect(accepting).rejects.toThrow(/Cannot hold the call with 1002/);
    expect(inc.accept).not.toHaveBeenCalled();
    expect(phone.incoming.state).toBe('ringing');
    expect(phone.control!.hold.state).toBe('active');
  });

  it('Swap holds the current call and resumes the held one, which becomes current', async () => {
    const { phone, out, inc } = await twoCalls();
    const lines: string[] = [];
    phone.addEventListener('lines', () => lines.push(phone.calls().find((c) => c.current)!.peer));
    const swapping = phone.swap();
    expect(await answerReinvite(inc, 1)).toEqual({ hold: true }); // the answered call is held first …
    expect(await answerReinvite(out, 2)).toEqual({ hold: false }); // … then the first one resumed
    await swapping;
    expect(phone.calls().map((c) => [c.peer, c.hold, c.current])).toEqual([
      ['1002', 'active', true],
      ['Carrier Caller (5557777)', 'held', false],
    ]);
    expect(callLine(phone)).toBe('In call with 1002');
    expect(lines).toContain('1002');
    await expect(phone.swap(999)).rejects.toThrow('No held call to swap to');
  });

  it('hanging up one call leaves the other (held) current; its Resume works', async () => {
    const { phone, out, inc } = await twoCalls();
    await phone.hangup();
    expect(inc.bye).toHaveBeenCalled();
    expect(out.bye).not.toHaveBeenCalled();
    inc.stateChange.emit('Terminated');
    await settle();
    expect(phone.call.state).toBe('in-call');
    expect(callLine(phone)).toBe('On hold');
    expect(phone.calls()).toHaveLength(1);
    expect(phone.history.recent()).toMatchObject([{ direction: 'in', number: '5557777', outcome: 'answered' }]);
    const resuming = phone.setHold(false);
    await answerReinvite(out, 2);
    await resuming;
    expect(callLine(phone)).toBe('In call with 1002');
  });

  it('hangs up a given call by id (the held one) and keeps the current one', async () => {
    const { phone, out, inc } = await twoCalls();
    const held = phone.calls().find((c) => !c.current)!;
    await phone.hangup(held.id);
    expect(out.bye).toHaveBeenCalled();
    expect(inc.bye).not.toHaveBeenCalled();
    out.stateChange.emit('Terminated');
    await settle();
    expect(phone.calls().map((c) => c.peer)).toEqual(['Carrier Caller (5557777)']);
    expect(callLine(phone)).toBe('In call with Carrier Caller (5557777)');
  });

  it('the waiting caller giving up is a missed call; the first call goes on', async () => {
    const { phone } = await establishedCall();
    const inc = invite();
    inc.delegate.onCancel({ request: { getHeaders: () => [] } });
    inc.stateChange.emit('Terminated');
    await settle();
    expect(phone.incoming.state).toBe('missed');
    expect(phone.history.missed()).toHaveLength(1);
    expect([phone.call.state, callLine(phone)]).toEqual(['in-call', 'In call with 1002']);
  });

  it('dialling while in a call holds it first', async () => {
    const { phone, inv: out } = await establishedCall();
    const dialling = phone.dial('5551234');
    await answerReinvite(out, 1);
    await dialling;
    expect(fake.Inviter.last).not.toBe(out);
    expect([phone.call.state, phone.peer]).toEqual(['calling', '5551234']);
    expect(phone.calls().map((c) => [c.peer, c.hold])).toEqual([['1002', 'held'], ['5551234', 'active']]);
    await expect(phone.dial('5550000')).rejects.toThrow('Already in a call');
  });
});

describe('web/phone: do-not-disturb', () => {
  it('answers every new call 486 Busy Here while on, rings again once off', async () => {
    const phone = await registeredPhone();
    phone.setDnd(true);
    const first = invite();
    expect(first.reject).toHaveBeenCalledWith({ statusCode: 486 });
    expect(phone.incoming.state).toBe('none');
    expect(phone.calls()).toEqual([]);
    phone.setDnd(false);
    const second = invite();
    expect(second.reject).not.toHaveBeenCalled();
    expect(phone.incoming.state).toBe('ringing');
  });

  it('refuses a waiting call too', async () => {
    const { phone } = await establishedCall();
    phone.setDnd(true);
    const inc = invite();
    expect(inc.reject).toHaveBeenCalledWith({ statusCode: 486 });
    expect(phone.calls()).toHaveLength(1);
  });
});
