// RFC 4028 session timers: UAS negotiation (422, refresher choice, Require: timer), UAC 2xx/422
// processing, and the refresh/BYE schedule on a fake clock.
import { describe, expect, it } from 'vitest';
import { getHeader, getHeaderValues } from '../../../gateway/sip/message/headers.js';
import { parseMessage } from '../../../gateway/sip/message/parser.js';
import type { SipRequest, SipResponse } from '../../../gateway/sip/message/types.js';
import {
  SESSION_EXPIRED_REASON,
  SessionTimer,
  expiryDelayMs,
  negotiateUas,
  refreshFailedReason,
  DEFAULT_SESSION_TIMER_CONFIG as CFG,
} from '../../../gateway/sip/ua/session-timer.js';

const BASE = ['Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1', 'From: <sip:a@192.0.2.1>;tag=a', 'To: <sip:b@192.0.2.2>',
  'Call-ID: st1', 'Max-Forwards: 70'];

function req(extra: string[], method = 'INVITE'): SipRequest {
  const text = [`${method} sip:b@192.0.2.2 SIP/2.0`, ...BASE, `CSeq: 1 ${method}`, ...extra, 'Content-Length: 0', '', ''];
  return parseMessage(Buffer.from(text.join('\r\n'))) as SipRequest;
}
function res(status: number, extra: string[], method = 'INVITE'): SipResponse {
  const text = [`SIP/2.0 ${status} X`, ...BASE, `CSeq: 1 ${method}`, ...extra, 'Content-Length: 0', '', ''];
  return parseMessage(Buffer.from(text.join('\r\n'))) as SipResponse;
}
function clock(): { now: () => number; set: (t: number) => void } {
  let t = 1_000_000;
  return { now: () => t, set: (v) => (t = v) };
}

describe('negotiateUas (RFC 4028 §9)', () => {
  it('422 with our Min-SE when a timer-capable UAC asks for less than our minimum', () => {
    const d = negotiateUas(req(['Supported: timer', 'Session-Expires: 60']), { ...CFG, minSE: 120 });
    expect(d).toEqual({ kind: 'reject', status: 422, headers: [{ name: 'Min-SE', value: '120' }] });
  });

  it('does not reject a UAC without timer support: raises the interval to the minimum, refresher uas, no Require', () => {
    const d = negotiateUas(req(['Session-Expires: 60']), { ...CFG, minSE: 120 });
    expect(d.kind).toBe('accept');
    if (d.kind !== 'accept') return;
    expect(d.session).toEqual({ interval: 120, refresher: 'uas' });
    expect(d.headers).toEqual([{ name: 'Session-Expires', value: '120;refresher=uas' }]);
  });

  it('keeps the refresher of the request and lowers, never raises, the interval', () => {
    const d = negotiateUas(req(['Supported: timer', 'Session-Expires: 3600;refresher=uac']), CFG);
    expect(d).toMatchObject({ kind: 'accept', session: { interval: 1800, refresher: 'uac' } });
    if (d.kind !== 'accept') return;
    expect(d.headers).toContainEqual({ name: 'Require', value: 'timer' });
    const small = negotiateUas(req(['Supported: timer', 'Session-Expires: 300']), CFG);
    expect(small).toMatchObject({ session: { interval: 300 } });
  });

  it('does not lower below the Min-SE of the request', () => {
    const d = negotiateUas(req(['Supported: timer', 'Session-Expires: 3600', 'Min-SE: 2000']), CFG);
    expect(d).toMatchObject({ session: { interval: 2000 } });
  });

  it('chooses the refresher when absent: preferRefresher with timer support, always uas without', () => {
    expect(negotiateUas(req(['Supported: timer', 'Session-Expires: 900']), CFG)).toMatchObject({ session: { refresher: 'uas' } });
    const uac = negotiateUas(req(['Supported: timer', 'Session-Expires: 900']), { ...CFG, preferRefresher: 'uac' });
    expect(uac).toMatchObject({ session: { refresher: 'uac' } });
    const none = negotiateUas(req([]), { ...CFG, preferRefresher: 'uac' });
    expect(none).toMatchObject({ session: { interval: 1800, refresher: 'uas' } });
    if (none.kind === 'accept') expect(none.headers.map((h) => h.name)).toEqual(['Session-Expires']);
  });

  it('Require: timer in the request counts as support (no 420 needed)', () => {
    const d = negotiateUas(req(['Require: timer', 'Session-Expires: 90']), CFG);
    expect(d).toMatchObject({ kind: 'accept', session: { interval: 90, refresher: 'uas' } });
  });
});

describe('SessionTimer as UAC', () => {
  it('sends Supported: timer, Session-Expires and Min-SE; no refresher before a session exists', () => {
    const st = new SessionTimer(() => 0);
    expect(st.requestHeaders()).toEqual([
      { name: 'Supported', value: 'timer' },
      { name: 'Session-Expires', value: '1800' },
      { name: 'Min-SE', value: '90' },
    ]);
  });

  it('2xx naming uac as refresher: we refresh at half the interval; the refresh keeps refresher=uac', () => {
    const c = clock();
    const st = new SessionTimer(c.now);
    st.onRequestSent();
    expect(st.onResponse(res(200, ['Require: timer', 'Session-Expires: 600;refresher=uac']), 'INVITE')).toEqual({
      kind: 'refreshed', session: { interval: 600, refresher: 'uac' },
    });
    expect(st.timers()).toEqual([{ action: 'refresh', at: 1_000_000 + 300_000 }]);
    expect(st.requestHeaders()[1]).toEqual({ name: 'Session-Expires', value: '600;refresher=uac' });
    c.set(1_300_000);
    st.onRequestSent();
    expect(st.timers()).toEqual([{ action: 'bye', at: 1_600_000, reason: SESSION_EXPIRED_REASON }]);
    st.onResponse(res(200, ['Require: timer', 'Session-Expires: 600;refresher=uac'], 'UPDATE'), 'UPDATE');
    expect(st.timers()).toEqual([{ action: 'refresh', at: 1_600_000 }]);
  });

  it('2xx naming uas: the peer refreshes, BYE at interval - min(32, interval/3)', () => {
    const c = clock();
    const st = new SessionTimer(c.now);
    st.onResponse(res(200, ['Require: timer', 'Session-Expires: 90;refresher=uas']), 'INVITE');
    expect(st.weRefresh).toBe(false);
    expect(st.timers()).toEqual([{ action: 'bye', at: 1_000_000 + 60_000, reason: SESSION_EXPIRED_REASON }]);
    expect(expiryDelayMs(1800)).toBe(1768_000);
    expect(st.requestHeaders()[1]?.value).toBe('90;refresher=uas');
  });

  it('§7.2: no Session-Expires in the 2xx → no timer; Session-Expires without Require: timer → we refresh', () => {
    const st = new SessionTimer(() => 0);
    expect(st.onResponse(res(200, []), 'INVITE')).toEqual({ kind: 'refreshed', session: undefined });
    expect(st.timers()).toEqual([]);
    st.onResponse(res(200, ['Session-Expires: 1200;refresher=uas']), 'INVITE');
    expect(st.weRefresh).toBe(true);
    expect(st.timers()).toEqual([{ action: 'refresh', at: 600_000 }]);
  });

  it('422: retry with the raised Min-SE and Session-Expires; a 422 that raises nothing ends', () => {
    const st = new SessionTimer(() => 0, { interval: 300 });
    const out = st.onResponse(res(422, ['Min-SE: 1000']), 'INVITE');
    expect(out.kind).toBe('retry');
    if (out.kind !== 'retry') return;
    expect(out.headers).toContainEqual({ name: 'Session-Expires', value: '1000' });
    expect(out.headers).toContainEqual({ name: 'Min-SE', value: '1000' });
    expect(st.onResponse(res(422, ['Min-SE: 500']), 'INVITE')).toEqual({ kind: 'none' });
  });

  it('failed refresh: 408/481/timeout → end with a Reason; 491 → glare; UPDATE 501 → re-INVITE', () => {
    const st = new SessionTimer(() => 0);
    st.onResponse(res(200, ['Require: timer', 'Session-Expires: 600;refresher=uac']), 'INVITE');
    st.onRequestSent('modify');
    expect(st.onResponse(res(481, []), 'UPDATE')).toEqual({ kind: 'end', reason: refreshFailedReason(481) });
    expect(refreshFailedReason(481)).toBe('SIP ;cause=481 ;text="Session refresh failed"');
    expect(st.onResponse(res(408, []), 'INVITE')).toEqual({ kind: 'end', reason: refreshFailedReason(408) });
    st.onRequestSent('refresh');
    expect(st.onTimeout()).toEqual({ kind: 'end', reason: 'SIP ;cause=408 ;text="Session refresh failed"' });
    expect(st.onResponse(res(491, []), 'INVITE')).toEqual({ kind: 'glare' });
    expect(st.onResponse(res(501, [], 'UPDATE'), 'UPDATE')).toEqual({ kind: 'retry-invite' });
    expect(st.onResponse(res(180, []), 'INVITE')).toEqual({ kind: 'none' });
  });

  it('any other failure ends a timer-driven refresh, but leaves a rejected modification (hold) alone', () => {
    const c = clock();
    const st = new SessionTimer(c.now);
    st.onResponse(res(200, ['Require: timer', 'Session-Expires: 600;refresher=uac']), 'INVITE');
    const before = st.timers();
    st.onRequestSent('modify');
    expect(st.onResponse(res(488, []), 'INVITE')).toEqual({ kind: 'none' });
    expect(st.timers()).toEqual(before);
    st.onRequestSent('refresh');
    expect(st.onResponse(res(488, []), 'INVITE')).toEqual({ kind: 'end', reason: refreshFailedReason(488) });
  });

  it('a failure before any timer session is not the timer\'s business', () => {
    const st = new SessionTimer(() => 0);
    expect(st.onResponse(res(486, []), 'INVITE')).toEqual({ kind: 'none' });
    expect(st.onTimeout()).toEqual({ kind: 'none' });
  });

  it('rejects a config below the RFC minimum', () => {
    expect(() => new SessionTimer(() => 0, { minSE: 60 })).toThrow(RangeError);
    expect(() => new SessionTimer(() => 0, { interval: 100, minSE: 200 })).toThrow(RangeError);
  });
});

describe('SessionTimer as UAS', () => {
  it('applies only on a 2xx we send; each refresh from the peer resets the BYE', () => {
    const c = clock();
    const st = new SessionTimer(c.now);
    const d = st.onRequest(req(['Supported: timer', 'Session-Expires: 300;refresher=uac']));
    expect(d.kind).toBe('accept');
    expect(st.timers()).toEqual([]);
    st.onResponseSent(200);
    expect(st.weRefresh).toBe(false);
    expect(st.timers()).toEqual([{ action: 'bye', at: 1_000_000 + 268_000, reason: SESSION_EXPIRED_REASON }]);
    c.set(1_150_000);
    st.onRequest(req(['Supported: timer', 'Session-Expires: 300;refresher=uac'], 'UPDATE'));
    st.onResponseSent(200);
    expect(st.timers()[0]?.at).toBe(1_150_000 + 268_000);
  });

  it('a rejected request (non-2xx) leaves the running timer as it was', () => {
    const c = clock();
    const st = new SessionTimer(c.now);
    st.onRequest(req(['Supported: timer', 'Session-Expires: 300;refresher=uas']));
    st.onResponseSent(200);
    expect(st.timers()).toEqual([{ action: 'refresh', at: 1_150_000 }]);
    c.set(1_100_000);
    st.onRequest(req(['Supported: timer', 'Session-Expires: 300;refresher=uas']));
    st.onResponseSent(488);
    expect(st.timers()).toEqual([{ action: 'refresh', at: 1_150_000 }]);
  });

  it('a 422 names our own minimum, not one learned from the peer', () => {
    const st = new SessionTimer(() => 0, { minSE: 300 });
    st.onRequest(req(['Supported: timer', 'Session-Expires: 1800', 'Min-SE: 1000']));
    const d = st.onRequest(req(['Supported: timer', 'Session-Expires: 200']));
    expect(d).toEqual({ kind: 'reject', status: 422, headers: [{ name: 'Min-SE', value: '300' }] });
  });

  it('remembers a received Min-SE for its own later requests (§7.4)', () => {
    const st = new SessionTimer(() => 0);
    const d = st.onRequest(req(['Supported: timer', 'Session-Expires: 1800', 'Min-SE: 1200']));
    expect(d.kind).toBe('accept');
    expect(st.requestHeaders()).toContainEqual({ name: 'Min-SE', value: '1200' });
  });

  it('the 2xx headers go on the wire as the peer expects', () => {
    const d = new SessionTimer(() => 0).onRequest(req(['Supported: timer, 100rel', 'Session-Expires: 900']));
    const r = res(200, d.kind === 'accept' ? d.headers.map((h) => `${h.name}: ${h.value}`) : []);
    expect(getHeader(r, 'Session-Expires')).toBe('900;refresher=uas');
    expect(getHeaderValues(r, 'Require')).toEqual(['timer']);
  });
});
