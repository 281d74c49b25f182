// Phone (web/phone.js + web/call-control.js) against the scripted sip.js: a call outlives a lost WebSocket
// ("Reconnecting…", reconnect, REGISTER, re-INVITE of the same session with an ICE restart), ends as
// "Connection lost" when that fails or the gateway ended it meanwhile, and restarts ICE when its path fails.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('sip.js', async () => (await import('./fake-sipjs.js')).fakeSipJs);

import { dropWebSocket } from '../../../web/call-control.js';
import type { Phone } from '../../../web/phone.js';
import { callLine as line, establishedCall as inCall, fake, resetFakeSipJsEachTest, response } from './phone-harness.js';

resetFakeSipJsEachTest();
beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

const AUDIO = { audio: true, video: false };
const ICE_RESTART = { constraints: AUDIO, hold: false, offerOptions: { iceRestart: true } };
/** sip.js's transport lost its WebSocket without being asked to. */
const lose = () => fake.UserAgent.last.options.delegate.onDisconnect(new Error('WebSocket closed (code: 1006)'));

/** Lets the reconnection timer fire and the new REGISTER be accepted. */
async function reconnect(phone: Phone, registerer: any): Promise<void> {
  await vi.advanceTimersByTimeAsync(1000);
  const calls = registerer.register.mock.calls;
  calls[calls.length - 1][0].requestDelegate.onAccept();
  expect(phone.registration.state).toBe('registered');
}

async function reinvite(inv: any, n: number): Promise<any> {
  await vi.advanceTimersByTimeAsync(0);
  expect(inv.invite.mock.calls.length).toBeGreaterThan(n);
  return inv.invite.mock.calls[n][0];
}

describe('web/phone: a call outlives a lost connection', () => {
  it('Reconnecting… → reconnect → REGISTER → re-INVITE with iceRestart → back in call', async () => {
    const { phone, inv, calls, ua, registerer } = await inCall();
    lose();
    expect([phone.call.state, line(phone), phone.control!.link.state]).toEqual(['in-call', 'Reconnecting…', 'reconnecting']);
    expect(inv.invite).toHaveBeenCalledTimes(1); // nothing sent over a dead connection
    await reconnect(phone, registerer);
    expect(ua.reconnect).toHaveBeenCalledTimes(1);
    const opts = await reinvite(inv, 1);
    expect(opts.sessionDescriptionHandlerOptions).toEqual(ICE_RESTART);
    expect([phone.control!.link.state, line(phone)]).toEqual(['restarting', 'Reconnecting…']);
    opts.requestDelegate.onAccept(response(200, 'OK'));
    await vi.advanceTimersByTimeAsync(0);
    expect([phone.call.state, line(phone)]).toEqual(['in-call', 'In call with 1002']);
    // The ICE restart is not kept for later offers and answers.
    expect(inv.sessionDescriptionHandlerOptionsReInvite).toEqual({ constraints: AUDIO, hold: false });
    expect(calls).toEqual([]);
    // The recovery deadline no longer applies.
    await vi.advanceTimersByTimeAsync(120_000);
    expect([phone.call.state, inv.bye.mock.calls.length]).toEqual(['in-call', 0]);
  });

  it('a call on hold stays on hold across the reconnection', async () => {
    const { phone, inv, registerer } = await inCall();
    const held = phone.setHold(true);
    (await reinvite(inv, 1)).requestDelegate.onAccept(response(200, 'OK'));
    await held;
    lose();
    await reconnect(phone, registerer);
    const opts = await reinvite(inv, 2);
    expect(opts.sessionDescriptionHandlerOptions).toEqual({ ...ICE_RESTART, hold: true });
    opts.requestDelegate.onAccept(response(200, 'OK'));
    await vi.advanceTimersByTimeAsync(0);
    expect(line(phone)).toBe('On hold');
  });

  it.each([
    [481, 'Call/Transaction Does Not Exist'], // the gateway let the call go
    [488, 'Not Acceptable Here'], // any other failure too: the old media path is gone
  ])('a %i to that re-INVITE: BYE, ended as "Connection lost"', async (code, phrase) => {
    const { phone, inv, registerer } = await inCall();
    lose();
    await reconnect(phone, registerer);
    (await reinvite(inv, 1)).requestDelegate.onReject(response(code, phrase));
    await vi.advanceTimersByTimeAsync(0);
    expect(inv.bye).toHaveBeenCalledTimes(1);
    inv.stateChange.emit('Terminated');
    await vi.advanceTimersByTimeAsync(0);
    expect([phone.call.state, phone.call.reason]).toEqual(['ended', 'Connection lost']);
    expect(phone.history.recent()).toMatchObject([{ outcome: 'answered', reason: 'Connection lost' }]);
  });

  it('a BYE from the gateway while reconnecting ends the call as "Connection lost"', async () => {
    const { phone, inv, registerer } = await inCall();
    lose();
    await reconnect(phone, registerer);
    await reinvite(inv, 1);
    inv.delegate.onBye();
    inv.stateChange.emit('Terminated');
    await vi.advanceTimersByTimeAsync(0);
    expect([phone.call.state, phone.call.reason]).toEqual(['ended', 'Connection lost']);
  });

  it('no connection within recoveryMs (60 s): the call ends as "Connection lost", even if no BYE can go', async () => {
    const { phone, inv } = await inCall();
    fake.UserAgent.refuse = true;
    inv.bye.mockRejectedValueOnce(new Error('Transport disconnected'));
    lose();
    await vi.advanceTimersByTimeAsync(59_999);
    expect(line(phone)).toBe('Reconnecting…');
    await vi.advanceTimersByTimeAsync(1);
    expect(inv.bye).toHaveBeenCalledTimes(1);
    expect([phone.call.state, phone.call.reason]).toEqual(['ended', 'Connection lost']);
    expect(phone.control).toBeNull();
  });

  it('dropConnection() closes the WebSocket the way a lost network does', () => {
    const ws = { close: vi.fn() };
    expect(dropWebSocket({ transport: { ws } })).toBe(true);
    expect(ws.close).toHaveBeenCalledWith(4000, 'connection dropped');
    expect(dropWebSocket({ transport: {} })).toBe(false);
    expect(dropWebSocket(null)).toBe(false);
  });
});

describe('web/phone: ICE restart without a lost connection', () => {
  it('ICE failed on the peer connection: re-INVITE with iceRestart, back to "In call"', async () => {
    const { phone, inv } = await inCall();
    const pc = inv.sessionDescriptionHandler.peerConnection;
    pc.iceState('disconnected');
    await vi.advanceTimersByTimeAsync(0);
    expect(inv.invite).toHaveBeenCalledTimes(1); // disconnected may come back by itself
    pc.iceState('failed');
    const opts = await reinvite(inv, 1);
    expect(opts.sessionDescriptionHandlerOptions).toEqual(ICE_RESTART);
    expect(line(phone)).toBe('Reconnecting…');
    opts.requestDelegate.onAccept(response(200, 'OK'));
    await vi.advanceTimersByTimeAsync(0);
    expect(line(phone)).toBe('In call with 1002');
  });

  it('restartIce(): a 488 keeps the call with a message; a 481 ends it', async () => {
    const { phone, inv } = await inCall();
    const first = phone.restartIce();
    (await reinvite(inv, 1)).requestDelegate.onReject(response(488, 'Not Acceptable Here'));
    expect(await first).toBe(false);
    expect([phone.call.state, line(phone), phone.control!.message]).toEqual(['in-call', 'In call with 1002', 'Reconnect failed: Not acceptable here (488)']);
    const second = phone.restartIce();
    (await reinvite(inv, 2)).requestDelegate.onReject(response(481, 'Call/Transaction Does Not Exist'));
    expect(await second).toBe(false);
    expect(inv.bye).toHaveBeenCalledTimes(1);
  });

  it('a restart cut off by a lost connection: its late 408 is stale, the reconnection’s re-INVITE decides', async () => {
    const { phone, inv, registerer } = await inCall();
    const first = phone.restartIce();
    const stale = await reinvite(inv, 1);
    lose();
    await reconnect(phone, registerer);
    expect(inv.invite).toHaveBeenCalledTimes(2); // one re-INVITE at a time: the new one waits
    stale.requestDelegate.onReject(response(408, 'Request Timeout')); // Timer B of the old one
    expect(await first).toBe(false);
    expect([phone.call.state, inv.bye.mock.calls.length]).toEqual(['in-call', 0]);
    const fresh = await reinvite(inv, 2);
    expect(fresh.sessionDescriptionHandlerOptions).toEqual(ICE_RESTART);
    fresh.requestDelegate.onAccept(response(200, 'OK'));
    await vi.advanceTimersByTimeAsync(0);
    expect(line(phone)).toBe('In call with 1002');
  });

  it('a restart asked for while a hold is pending waits for it (one re-INVITE at a time)', async () => {
    const { phone, inv } = await inCall();
    const held = phone.setHold(true);
    const hold = await reinvite(inv, 1);
    const restarted = phone.restartIce();
    await vi.advanceTimersByTimeAsync(0);
    expect(inv.invite).toHaveBeenCalledTimes(2);
    hold.requestDelegate.onAccept(response(200, 'OK'));
    await held;
    const restart = await reinvite(inv, 2);
    expect(restart.sessionDescriptionHandlerOptions).toEqual({ ...ICE_RESTART, hold: true });
    restart.requestDelegate.onAccept(response(200, 'OK'));
    expect(await restarted).toBe(true);
  });
});
