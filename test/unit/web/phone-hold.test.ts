// Phone (web/phone.js + web/call-control.js) against the scripted sip.js: Hold / Resume by re-INVITE,
// a rejected re-INVITE leaving the call as it was, glare (491) retried once after the RFC 3261 §14.1
// wait, and the other party's hold read from its re-INVITE offers.
import { afterEach, describe, expect, it, vi } from 'vitest';

vi.mock('sip.js', async () => (await import('./fake-sipjs.js')).fakeSipJs);

import { glareDelayMs } from '../../../web/call-control.js';
import { callLine as line, establishedCall as inCall, registeredPhone, resetFakeSipJsEachTest, response, settle } from './phone-harness.js';

resetFakeSipJsEachTest();
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

const AUDIO = { audio: true, video: false };

/** Options of re-INVITE number `n` (1 = the first after the initial INVITE), once the page has sent it. */
async function reinvite(inv: any, n: number): Promise<any> {
  await vi.waitFor(() => expect(inv.invite.mock.calls.length).toBeGreaterThan(n));
  return inv.invite.mock.calls[n][0];
}

function sdp(direction: string, address = '203.0.113.7'): string {
  return ['v=0', 'o=- 1 2 IN IP4 203.0.113.7', 's=-', `c=IN IP4 ${address}`, 't=0 0', 'm=audio 40000 UDP/TLS/RTP/SAVPF 111', 'a=rtpmap:111 opus/48000/2', `a=${direction}`, ''].join('\r\n');
}

describe('web/phone: hold and resume', () => {
  it('holds with sip.js’s hold option (sendonly offer), shows "On hold", resumes without it', async () => {
    const { phone, inv, calls } = await inCall();
    const held = phone.setHold(true);
    const opts = await reinvite(inv, 1);
    expect(opts.sessionDescriptionHandlerOptions).toEqual({ constraints: AUDIO, hold: true });
    expect(opts.sessionDescriptionHandlerModifiers).toBeUndefined(); // no SDP munging
    expect([phone.control!.hold.state, line(phone)]).toEqual(['holding', 'Putting on hold…']);
    opts.requestDelegate.onAccept(response(200, 'OK'));
    await held;
    expect([phone.control!.hold.state, line(phone)]).toEqual(['held', 'On hold']);
    // Later offers and answers of this session keep the hold (sip.js reads these options for each).
    expect(inv.sessionDescriptionHandlerOptionsReInvite).toEqual({ constraints: AUDIO, hold: true });
    expect(inv.sessionDescriptionHandler.enableSenderTracks).toHaveBeenLastCalledWith(false);

    const resumed = phone.setHold(false);
    const again = await reinvite(inv, 2);
    expect(again.sessionDescriptionHandlerOptions).toEqual({ constraints: AUDIO, hold: false });
    expect(line(phone)).toBe('Resuming…');
    again.requestDelegate.onAccept(response(200, 'OK'));
    await resumed;
    expect([phone.control!.hold.state, line(phone)]).toEqual(['active', 'In call with 1002']);
    expect(inv.sessionDescriptionHandlerOptionsReInvite).toEqual({ constraints: AUDIO, hold: false });
    expect(inv.sessionDescriptionHandler.enableSenderTracks).toHaveBeenLastCalledWith(true);
    expect(phone.call.state).toBe('in-call');
    expect(calls).toEqual([]); // the call itself never changed state
  });

  it('a rejected hold (488) leaves the call as it was and says why', async () => {
    const { phone, inv } = await inCall();
    const messages: string[] = [];
    phone.addEventListener('control', (e) => messages.push((e as CustomEvent).detail.message));
    const held = phone.setHold(true);
    (await reinvite(inv, 1)).requestDelegate.onReject(response(488, 'Not Acceptable Here'));
    await held;
    expect([phone.control!.hold.state, line(phone)]).toEqual(['active', 'In call with 1002']);
    expect(messages.at(-1)).toBe('Hold failed: Not acceptable here (488)');
    expect(inv.sessionDescriptionHandlerOptionsReInvite).toEqual({ constraints: AUDIO, hold: false });
    expect(inv.sessionDescriptionHandler.enableSenderTracks).not.toHaveBeenCalled();
  });

  it('gives sip.js the rollback its web handler lacks, so a rejected offer does not wedge the call', async () => {
    const { inv } = await inCall();
    const sdh = inv.sessionDescriptionHandler;
    const pc = sdh.peerConnection;
    await sdh.rollbackDescription();
    expect(pc.setLocalDescription).not.toHaveBeenCalled(); // stable: nothing to undo
    pc.signalingState = 'have-local-offer'; // our re-INVITE's offer, then a 4xx
    await sdh.rollbackDescription();
    expect(pc.setLocalDescription).toHaveBeenCalledWith({ type: 'rollback' });
    expect(pc.signalingState).toBe('stable');
  });

  it('a rejected resume stays on hold; a re-INVITE sip.js refuses to send fails the same way', async () => {
    const { phone, inv } = await inCall();
    const held = phone.setHold(true);
    (await reinvite(inv, 1)).requestDelegate.onAccept(response(200, 'OK'));
    await held;
    const resumed = phone.setHold(false);
    (await reinvite(inv, 2)).requestDelegate.onReject(response(500, 'Server Internal Error'));
    await resumed;
    expect([phone.control!.hold.state, phone.control!.message]).toEqual(['held', 'Resume failed: Server error (500)']);
    expect(inv.sessionDescriptionHandlerOptionsReInvite.hold).toBe(true);
    inv.invite.mockRejectedValueOnce(new Error('Reinvite in progress.'));
    await phone.setHold(false);
    expect([phone.control!.hold.state, phone.control!.message]).toEqual(['held', 'Resume failed: Reinvite in progress.']);
  });

  it('glare: a 491 is retried once after 2.1–4 s (we own the Call-ID), a second 491 gives up', async () => {
    vi.useFakeTimers();
    vi.spyOn(Math, 'random').mockReturnValue(0.5); // T = 10 ms × (210 + 95) = 3050 ms
    const { phone, inv } = await inCall();
    const held = phone.setHold(true);
    (await reinvite(inv, 1)).requestDelegate.onReject(response(491, 'Request Pending'));
    await vi.advanceTimersByTimeAsync(3049);
    expect(inv.invite).toHaveBeenCalledTimes(2);
    expect(phone.control!.hold.state).toBe('holding');
    await vi.advanceTimersByTimeAsync(1);
    const retry = await reinvite(inv, 2);
    expect(retry.sessionDescriptionHandlerOptions.hold).toBe(true);
    retry.requestDelegate.onReject(response(491, 'Request Pending'));
    await held;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(inv.invite).toHaveBeenCalledTimes(3);
    expect([phone.control!.hold.state, phone.control!.message]).toEqual(['active', 'Hold failed: Request Pending (491)']);
  });

  it('the §14.1 wait: 2.1–4 s for the Call-ID’s owner, 0–2 s otherwise, in 10 ms steps', () => {
    expect([glareDelayMs(true, () => 0), glareDelayMs(true, () => 0.999999)]).toEqual([2100, 4000]);
    expect([glareDelayMs(false, () => 0), glareDelayMs(false, () => 0.999999)]).toEqual([0, 2000]);
    expect(glareDelayMs(true, () => 0.123) % 10).toBe(0);
  });

  it('refuses to hold with no call, or twice', async () => {
    const phone = await registeredPhone();
    await expect(phone.setHold(true)).rejects.toThrow('No call in progress');
    const { phone: p2, inv } = await inCall();
    void p2.setHold(true);
    await reinvite(inv, 1);
    await expect(p2.setHold(true)).rejects.toThrow('Cannot hold the call now');
    expect(inv.invite).toHaveBeenCalledTimes(2);
  });
});

describe('web/phone: re-INVITEs from the other party', () => {
  it('a sendonly, inactive or c=0.0.0.0 offer shows "On hold by other party"; sendrecv clears it', async () => {
    const { phone, inv, calls } = await inCall();
    const offer = (body: string) => inv.delegate.onInvite({ body }, 'SIP/2.0 200 OK', 200);
    offer(sdp('sendonly'));
    expect([line(phone), phone.call.state]).toEqual(['On hold by other party', 'in-call']);
    offer(sdp('sendrecv'));
    expect(line(phone)).toBe('In call with 1002');
    offer(sdp('inactive'));
    expect(line(phone)).toBe('On hold by other party');
    offer(sdp('recvonly'));
    expect(line(phone)).toBe('In call with 1002');
    offer(sdp('sendrecv', '0.0.0.0'));
    expect(line(phone)).toBe('On hold by other party');
    offer(sdp('sendrecv'));
    expect(line(phone)).toBe('In call with 1002');
    expect(calls).toEqual([]);
  });

  it('a session refresh, a re-INVITE without SDP, a rejected or unreadable one change nothing', async () => {
    const { phone, inv, calls } = await inCall();
    inv.delegate.onInvite({ body: sdp('sendonly') }, 'SIP/2.0 200 OK', 200);
    inv.delegate.onInvite({ body: '' }, 'SIP/2.0 200 OK', 200); // our offer went in the 200
    inv.delegate.onInvite({ body: sdp('sendrecv') }, 'SIP/2.0 488 Not Acceptable Here', 488);
    inv.delegate.onInvite({ body: 'garbage' }, 'SIP/2.0 200 OK', 200);
    expect(console.warn).toHaveBeenCalledWith(expect.stringContaining('unreadable offer'));
    expect([line(phone), phone.call.state]).toEqual(['On hold by other party', 'in-call']);
    // Our own hold is shown first; the other party's returns once we resume.
    const held = phone.setHold(true);
    (await reinvite(inv, 1)).requestDelegate.onAccept(response(200, 'OK'));
    await held;
    expect(line(phone)).toBe('On hold');
    const resumed = phone.setHold(false);
    (await reinvite(inv, 2)).requestDelegate.onAccept(response(200, 'OK'));
    await resumed;
    expect(line(phone)).toBe('On hold by other party');
    expect(calls).toEqual([]);
    await phone.hangup();
    inv.stateChange.emit('Terminated');
    await settle();
    expect(phone.control).toBeNull();
    expect(line(phone)).toBe('Call ended: Hung up');
  });
});
