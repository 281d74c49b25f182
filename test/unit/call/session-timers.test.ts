// RFC 4028 session timers on each leg of a call (gateway/call/session-timers.ts), on the in-memory fakes
// with fake timers: the headers of our INVITE and 2xx, refreshes at half the interval, the BYE before
// expiry, 422 in both directions, and a failed refresh ending both legs with a Reason.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createResponse, getCSeq, getCallId, getFrom, getHeader, getHeaderValues } from '../../../gateway/sip/message/index.js';
import type { SipRequest } from '../../../gateway/sip/message/types.js';
import { FakeFlow, settle, sip, type SentRequest } from './fakes.js';
import { parseConfig } from '../../../gateway/config/load.js';
import { setup, testConfig, TRUNK_ANSWER } from './harness.js';
import { BROWSER_ANSWER, setupInbound } from './inbound-harness.js';

const EXPIRED = 'SIP ;cause=408 ;text="Session expired"';
const TIMER_2XX = (se: string, allow = 'INVITE, ACK, CANCEL, BYE, UPDATE') => [
  { name: 'Session-Expires', value: se },
  { name: 'Require', value: 'timer' },
  { name: 'Allow', value: allow },
];

let s: ReturnType<typeof setup>;
let seq = 0;

beforeEach(() => {
  vi.useFakeTimers();
  s = setup(testConfig());
});
afterEach(() => {
  vi.useRealTimers();
});

/** A browser call to the trunk, answered by the trunk with `headers` and ACKed by the browser. */
async function answeredCall(trunkHeaders: { name: string; value: string }[], browserHeaders?: string) {
  const tx = s.invite('5551234', { headers: browserHeaders });
  await settle();
  s.trunkResponds(200, { body: TRUNK_ANSWER, headers: trunkHeaders });
  await settle();
  s.browserInDialog('ACK', tx);
  await settle();
  return tx;
}

/** A request from the trunk inside the call's dialog. */
function trunkInDialog(method: string, headers: string, body = '') {
  const inv = s.trunkInvite(s.transactions.method('INVITE').length - 1).request;
  const req = sip(
    `${method} sip:gateway@127.0.0.1:5060 SIP/2.0
      Via: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bKtr${++seq}
      Max-Forwards: 70
      From: <sip:x@127.0.0.1>;tag=trunktag
      To: <sip:y@127.0.0.1>;tag=${getFrom(inv).params.tag}
      Call-ID: ${getCallId(inv)}
      CSeq: ${100 + seq} ${method}
      ${headers}${body ? '\nContent-Type: application/sdp' : ''}`,
    body,
  );
  return s.transactions.deliver(req, new FakeFlow('udp-trunk', 'udp'));
}

function answer(sent: SentRequest, status: number, headers: { name: string; value: string }[] = []): void {
  sent.handlers.onResponse(createResponse(sent.request, status, undefined, { headers }));
}

const toTrunk = (m: string) => s.transactions.method(m).filter((r) => !('id' in r.dest));
const toBrowser = (m: string) => s.transactions.method(m).filter((r) => 'id' in r.dest && r.dest.id === 'ws-1');
const reason = (r: SipRequest) => getHeader(r, 'Reason');

describe('session timers toward the trunk (gateway is the UAC)', () => {
  it('our INVITE offers timers: Supported: timer, Session-Expires 1800 and Min-SE 90 (defaults)', async () => {
    s.invite('5551234');
    await settle();
    const inv = s.trunkInvite().request;
    expect(getHeaderValues(inv, 'Supported')).toContain('timer');
    expect(getHeader(inv, 'Session-Expires')).toBe('1800');
    expect(getHeader(inv, 'Min-SE')).toBe('90');
  });

  it('as refresher: UPDATE at half the interval, again after each 2xx, never early', async () => {
    await answeredCall(TIMER_2XX('90;refresher=uac'));
    await vi.advanceTimersByTimeAsync(44_900);
    expect(toTrunk('UPDATE')).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(100);
    const [first] = toTrunk('UPDATE');
    expect(first).toBeDefined();
    expect(getHeader(first!.request, 'Session-Expires')).toBe('90;refresher=uac');
    expect(first!.request.body.length).toBe(0);
    answer(first!, 200, TIMER_2XX('90;refresher=uac'));
    await vi.advanceTimersByTimeAsync(44_900);
    expect(toTrunk('UPDATE')).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(100);
    expect(toTrunk('UPDATE')).toHaveLength(2);
    expect(toTrunk('BYE')).toHaveLength(0);
  });

  it('a peer without UPDATE in Allow is refreshed by re-INVITE repeating our offer unchanged', async () => {
    await answeredCall(TIMER_2XX('90;refresher=uac', 'INVITE, ACK, CANCEL, BYE'));
    await vi.advanceTimersByTimeAsync(45_000);
    expect(toTrunk('UPDATE')).toHaveLength(0);
    const reinvite = toTrunk('INVITE')[1]!;
    expect(reinvite.request.body.toString()).toBe(s.trunkInvite(0).request.body.toString());
    expect(getHeader(reinvite.request, 'Session-Expires')).toBe('90;refresher=uac');
  });

  it('as refreshee: a received UPDATE is answered with Session-Expires and restarts the timer; unrefreshed → BYE both legs with Reason at interval − min(32, interval/3)', async () => {
    await answeredCall(TIMER_2XX('90;refresher=uas'));
    await vi.advanceTimersByTimeAsync(40_000);
    const refresh = trunkInDialog('UPDATE', 'Supported: timer\nSession-Expires: 90;refresher=uac');
    await settle();
    expect(refresh.last.status).toBe(200);
    expect(getHeader(refresh.last, 'Session-Expires')).toBe('90;refresher=uac');
    expect(getHeaderValues(refresh.last, 'Require')).toContain('timer');
    // 90 − min(32, 30) = 60 s after the refresh, not after the 2xx.
    await vi.advanceTimersByTimeAsync(59_900);
    expect(s.transactions.method('BYE')).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(100);
    const [trunkBye] = toTrunk('BYE');
    const [browserBye] = toBrowser('BYE');
    expect(reason(trunkBye!.request)).toBe(EXPIRED);
    expect(reason(browserBye!.request)).toBe(EXPIRED);
    expect(s.transactions.method('UPDATE')).toHaveLength(0);
  });

  it('a received refresh whose Session-Expires is below our Min-SE gets 422 with Min-SE; the session policy never sees it', async () => {
    await answeredCall(TIMER_2XX('90;refresher=uas'));
    const offersBefore = s.media.calls.length;
    const refresh = trunkInDialog('UPDATE', 'Supported: timer\nSession-Expires: 30;refresher=uac');
    await settle();
    expect(refresh.statuses).toEqual([422]);
    expect(getHeader(refresh.last, 'Min-SE')).toBe('90');
    expect(s.media.calls.length).toBe(offersBefore);
  });

  it('a refresh re-INVITE with the unchanged SDP is answered by the session policy with Session-Expires added', async () => {
    await answeredCall(TIMER_2XX('90;refresher=uas'));
    await vi.advanceTimersByTimeAsync(40_000);
    const refresh = trunkInDialog('INVITE', 'Supported: timer\nSession-Expires: 90;refresher=uac\nContact: <sip:sipp@127.0.0.1:5099>', TRUNK_ANSWER);
    await settle();
    expect(refresh.last.status).toBe(200);
    expect(refresh.last.body.length).toBeGreaterThan(0);
    expect(getHeader(refresh.last, 'Session-Expires')).toBe('90;refresher=uac');
    await vi.advanceTimersByTimeAsync(59_900); // 60 s after this refresh, not after the 2xx
    expect(s.transactions.method('BYE')).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(100);
    expect(toTrunk('BYE')).toHaveLength(1);
  });

  it('422 to our INVITE → the INVITE again with Session-Expires and Min-SE raised to its Min-SE, new CSeq', async () => {
    s.invite('5551234');
    await settle();
    s.trunkResponds(422, { headers: [{ name: 'Min-SE', value: '1900' }] });
    await settle();
    const retry = s.trunkInvite(1).request;
    expect(getHeader(retry, 'Session-Expires')).toBe('1900');
    expect(getHeaderValues(retry, 'Min-SE')).toEqual(['1900']);
    expect(getHeaderValues(retry, 'Supported').filter((t) => t === 'timer')).toHaveLength(1);
    expect(getCSeq(retry).seq).toBe(getCSeq(s.trunkInvite(0).request).seq + 1);
    s.trunkResponds(200, { n: 1, body: TRUNK_ANSWER, headers: TIMER_2XX('1900;refresher=uas') });
    await settle();
    expect(s.transactions.method('BYE')).toHaveLength(0);
  });

  it.each([
    [481, 'SIP ;cause=481 ;text="Session refresh failed"'],
    [408, 'SIP ;cause=408 ;text="Session refresh failed"'],
  ])('a refresh answered %i → BYE with Reason on both legs', async (status, why) => {
    await answeredCall(TIMER_2XX('90;refresher=uac'));
    await vi.advanceTimersByTimeAsync(45_000);
    answer(toTrunk('UPDATE')[0]!, status);
    await settle();
    expect(reason(toTrunk('BYE')[0]!.request)).toBe(why);
    expect(reason(toBrowser('BYE')[0]!.request)).toBe(why);
  });

  it('a refresh that times out → BYE with Reason 408 on both legs', async () => {
    await answeredCall(TIMER_2XX('90;refresher=uac'));
    await vi.advanceTimersByTimeAsync(45_000);
    toTrunk('UPDATE')[0]!.handlers.onTimeout();
    await settle();
    expect(reason(toTrunk('BYE')[0]!.request)).toBe('SIP ;cause=408 ;text="Session refresh failed"');
    expect(reason(toBrowser('BYE')[0]!.request)).toBe('SIP ;cause=408 ;text="Session refresh failed"');
  });

  it('a 2xx without Session-Expires: no session timer on that leg (nothing sent, no BYE)', async () => {
    await answeredCall([]);
    // just under calls.maxDuration (4 h), which would end the call with BYE
    await vi.advanceTimersByTimeAsync(4 * 3600_000 - 1000);
    expect(s.transactions.method('UPDATE')).toHaveLength(0);
    expect(s.transactions.method('BYE')).toHaveLength(0);
  });
});

describe('session timers toward the browser (gateway is the UAS)', () => {
  it('a browser that does not ask gets no Session-Expires (users: false) and is never refreshed', async () => {
    const tx = await answeredCall([]);
    expect(getHeader(tx.last, 'Session-Expires')).toBeUndefined();
    await vi.advanceTimersByTimeAsync(4 * 3600_000);
    expect(toBrowser('INVITE')).toHaveLength(0);
  });

  it('Supported: timer + Session-Expires 120 → our 2xx says 120;refresher=uas with Require: timer, and we re-INVITE it at 60 s', async () => {
    const tx = await answeredCall([], 'Supported: timer\nSession-Expires: 120');
    expect(tx.last.status).toBe(200);
    expect(getHeader(tx.last, 'Session-Expires')).toBe('120;refresher=uas');
    expect(getHeaderValues(tx.last, 'Require')).toContain('timer');
    await vi.advanceTimersByTimeAsync(59_900);
    expect(toBrowser('INVITE')).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(100);
    const [reinvite] = toBrowser('INVITE');
    expect(getHeader(reinvite!.request, 'Session-Expires')).toBe('120;refresher=uac');
    expect(reinvite!.request.body.toString()).toBe(tx.last.body.toString());
  });

  it('with users: true a browser that does not ask still gets Session-Expires, with the gateway as refresher', async () => {
    s = setup(testConfig({ calls: { sessionTimers: { users: true } } }));
    const tx = await answeredCall([]);
    expect(getHeader(tx.last, 'Session-Expires')).toBe('1800;refresher=uas');
    expect(getHeaderValues(tx.last, 'Require')).not.toContain('timer');
    await vi.advanceTimersByTimeAsync(900_000);
    expect(toBrowser('INVITE')).toHaveLength(1);
  });

  it('too small a Session-Expires gets 422 with our Min-SE, and nothing is routed', async () => {
    const tx = s.invite('5551234', { headers: 'Supported: timer\nSession-Expires: 60' });
    await settle();
    expect(tx.last.status).toBe(422);
    expect(getHeader(tx.last, 'Min-SE')).toBe('90');
    expect(s.transactions.method('INVITE')).toHaveLength(0);
  });

  it('Require: timer is understood (no 420): the call goes on', async () => {
    const tx = s.invite('5551234', { headers: 'Require: timer\nSession-Expires: 1800;refresher=uac' });
    await settle();
    expect(tx.statuses).not.toContain(420);
    expect(s.transactions.method('INVITE')).toHaveLength(1);
  });

  it('each leg on its own: the browser refreshes its 1800 s leg while we refresh the trunk\'s 90 s leg', async () => {
    const tx = await answeredCall(TIMER_2XX('90;refresher=uac'), 'Supported: timer\nSession-Expires: 1800;refresher=uac');
    expect(getHeader(tx.last, 'Session-Expires')).toBe('1800;refresher=uac');
    await vi.advanceTimersByTimeAsync(45_000);
    answer(toTrunk('UPDATE')[0]!, 200, TIMER_2XX('90;refresher=uac'));
    await vi.advanceTimersByTimeAsync(45_000);
    expect(toTrunk('UPDATE')).toHaveLength(2);
    expect(toBrowser('INVITE')).toHaveLength(0);
    expect(toBrowser('UPDATE')).toHaveLength(0);
    expect(s.transactions.method('BYE')).toHaveLength(0);
  });
});

describe('calls from a trunk (gateway is the UAS of the trunk leg)', () => {
  async function answeredFromTrunk(headers?: string) {
    const t = setupInbound();
    const tab = t.register('alice', 'pa', 'tab1');
    const tx = t.trunkInvite('+15550100', { headers });
    await settle();
    expect(getHeader(t.sentInvite(0).request, 'Session-Expires')).toBeUndefined(); // users: false
    t.forkResponds(0, 200, { body: BROWSER_ANSWER });
    await settle();
    t.callerInDialog('ACK', tx);
    await settle();
    return { t, tab, tx };
  }

  it('a trunk that does not ask still gets Session-Expires (trunks: true) with us as refresher, and our re-INVITE at half the interval', async () => {
    const { t, tab, tx } = await answeredFromTrunk();
    expect(getHeader(tx.last, 'Session-Expires')).toBe('1800;refresher=uas');
    expect(getHeaderValues(tx.last, 'Require')).not.toContain('timer'); // §9: never toward a UAC without timer support
    await vi.advanceTimersByTimeAsync(899_000);
    expect(t.transactions.method('INVITE').filter((r) => r.dest === t.trunkFlow)).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1_000);
    const [reinvite] = t.transactions.method('INVITE').filter((r) => r.dest === t.trunkFlow);
    expect(reinvite!.request.body.toString()).toBe(tx.last.body.toString());
    expect(t.transactions.method('INVITE').filter((r) => r.dest === tab)).toHaveLength(1); // the fork's own INVITE only
  });

  it('a trunk that refreshes (refresher=uac) and then stops: BYE with Reason on both legs at 1800 − 32 s', async () => {
    const { t, tab, tx } = await answeredFromTrunk('Supported: timer\nSession-Expires: 1800;refresher=uac');
    expect(getHeader(tx.last, 'Session-Expires')).toBe('1800;refresher=uac');
    expect(getHeaderValues(tx.last, 'Require')).toContain('timer');
    await vi.advanceTimersByTimeAsync(1_767_900);
    expect(t.transactions.method('BYE')).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(100);
    const byes = t.transactions.method('BYE');
    expect(byes.map((b) => b.dest)).toEqual(expect.arrayContaining([t.trunkFlow, tab]));
    for (const bye of byes) expect(reason(bye.request)).toBe(EXPIRED);
  });
});

describe('calls.sessionTimers config', () => {
  it('defaults: 1800 s, Min-SE 90, the gateway refreshes, on toward trunks, off toward users', () => {
    expect(testConfig().calls.sessionTimers).toEqual({ interval: 1800, minSE: 90, refresher: 'uas', trunks: true, users: false });
  });
  it.each([
    [{ minSE: 30 }, 'calls.sessionTimers.minSE'],
    [{ interval: 120, minSE: 300 }, 'calls.sessionTimers.interval'],
    [{ refresher: 'both' }, 'calls.sessionTimers.refresher'],
  ])('%j is refused, naming the key', (timers, key) => {
    expect(() => parseConfig({ calls: { sessionTimers: timers } }, 'gateway.yaml')).toThrow(new RegExp(`gateway\\.yaml.*${key.replace(/\./g, '\\.')}`, 's'));
  });
});
