// The page's use of GET /api/me/calls (web/quality-gateway.js): its own call found by its leg's Call-ID,
// the panel's lines per side and the verdict, and the poller (only while the panel is open during a call,
// signed in with the phone's credentials, another call's figures dropped). Fake timers, a fake fetch.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GatewayQuality, POLL_MS, findCall, gatewayFigures, myCallsUrl } from '../../../web/quality-gateway.js';

const dir = (lossPercent: number | null, o: Record<string, unknown> = {}) => ({ packets: 500, lost: 0, lossPercent, intervalLossPercent: null, jitterMs: 2.4, mos: 4.4, ...o });
const call = (callId: string, you: number | null, far: number | null, o: Record<string, unknown> = {}) => ({
  callId,
  state: 'answered',
  quality: { source: 'embedded', you: { in: dir(you), out: dir(null), rttMs: 12 }, far: { in: dir(far, { mos: 3.4 }), out: dir(null), rttMs: null }, ...o },
});

describe('findCall / gatewayFigures', () => {
  it('finds the entry of our own leg by Call-ID only', () => {
    const list = [call('other@x', 0, 0), call('mine@x', 0, 0)];
    expect(findCall(list, 'mine@x')).toBe(list[1]);
    expect(findCall(list, 'nope')).toBeUndefined();
    expect(findCall(list, '')).toBeUndefined();
    expect(findCall({ not: 'a list' }, 'mine@x')).toBeUndefined();
    expect(findCall([null, 3, 'x'], 'mine@x')).toBeUndefined();
  });

  it('says what the gateway got from each side; the far side\'s MOS; where audio is lost', () => {
    const f = gatewayFigures(call('c', 0, 9.7))!;
    expect(f.lines.you).toBe('Gateway saw from you: loss 0.0 %, jitter 2 ms, round trip 12 ms');
    expect(f.lines.far).toBe('From the other side: loss 9.7 %, jitter 2 ms, MOS 3.4');
    expect(f.verdict).toMatch(/other side.*not yours/);
    expect(gatewayFigures(call('c', 8, 0))!.verdict).toMatch(/^Your connection/);
    expect(gatewayFigures(call('c', 8, 8))!.verdict).toMatch(/both sides/);
    expect(gatewayFigures(call('c', 0.5, 0))!.verdict).toBe('');
    expect(gatewayFigures(call('c', 2, 9))!.verdict).toBe(''); // neither clearly fine nor clearly bad
  });

  it('prefers the latest report interval\'s loss; unknown figures are dashes; nothing before an answer', () => {
    const c = call('c', 0, 10);
    c.quality.far.in.intervalLossPercent = 0 as never;
    expect(gatewayFigures(c)!.far!.lossPercent).toBe(0);
    const unknown = gatewayFigures({ state: 'answered', quality: { source: 'rtpengine', you: { in: dir(null, { jitterMs: null, mos: null }), out: dir(null), rttMs: null } } })!;
    expect(unknown.lines.you).toBe('Gateway saw from you: loss —, jitter —');
    expect(unknown.lines.far).toBe('From the other side: no figures yet');
    expect(unknown.verdict).toBe('');
    expect(gatewayFigures({ state: 'ringing' })).toBeNull();
    expect(gatewayFigures(undefined)).toBeNull();
  });

  it('asks the gateway that serves /api/ice-servers', () => {
    expect(myCallsUrl('https://gw.example.net:8443/api/ice-servers')).toBe('https://gw.example.net:8443/api/me/calls');
  });
});

describe('GatewayQuality', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function rig(o: { open?: boolean; callId?: string; status?: number; body?: unknown } = {}) {
    const state = { open: o.open ?? true, callId: o.callId ?? 'mine@x', status: o.status ?? 200, body: o.body ?? [call('mine@x', 0, 10)] };
    const shown: unknown[] = [];
    const requests: Array<{ url: string; auth: string }> = [];
    const fetch = vi.fn(async (url: string, init: { headers: Record<string, string> }) => {
      requests.push({ url, auth: init.headers.Authorization! });
      return { ok: state.status < 300, status: state.status, json: async () => state.body };
    });
    const poller = new GatewayQuality({
      credentials: () => ({ url: 'http://gw.test/api/ice-servers', user: 'alice~0011', password: 'tok' }),
      callId: () => state.callId,
      active: () => state.open,
      show: (f) => shown.push(f),
      fetch: fetch as never,
    });
    return { state, shown, requests, poller };
  }

  it('every POLL_MS while the panel is open: Basic with the phone\'s credentials, our call\'s figures', async () => {
    const r = rig();
    await vi.advanceTimersByTimeAsync(POLL_MS);
    expect(r.requests).toEqual([{ url: 'http://gw.test/api/me/calls', auth: `Basic ${Buffer.from('alice~0011:tok').toString('base64')}` }]);
    expect(r.shown).toEqual([expect.objectContaining({ far: expect.objectContaining({ lossPercent: 10 }) })]);
    await vi.advanceTimersByTimeAsync(POLL_MS);
    expect(r.requests).toHaveLength(2);
    r.poller.stop();
  });

  it('asks nothing while the panel is closed or there is no call; another call\'s figures are dropped', async () => {
    const r = rig({ open: false });
    await vi.advanceTimersByTimeAsync(POLL_MS * 3);
    expect(r.requests).toEqual([]);
    r.state.open = true;
    await r.poller.poll();
    expect(r.shown).toHaveLength(1);
    r.state.callId = '';
    await vi.advanceTimersByTimeAsync(POLL_MS);
    expect(r.requests).toHaveLength(1);
    expect(r.shown.at(-1)).toBeNull();
    r.poller.stop();
  });

  it('a 401 or a list without our call shows nothing', async () => {
    const r = rig({ status: 401, body: { error: 'wrong user or password' } });
    await r.poller.poll();
    expect(r.shown).toEqual([null]);
    r.state.status = 200;
    r.state.body = [call('someone-else@x', 50, 50)];
    await r.poller.poll();
    expect(r.shown).toEqual([null, null]);
    r.poller.stop();
  });
});
