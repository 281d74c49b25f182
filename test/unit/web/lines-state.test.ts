// The page's call list (web/calls.js): whether a new call rings (call waiting) or is answered 486, which
// call becomes current when one ends, which held call Swap resumes, which tone plays, what the list shows.
import { describe, expect, it } from 'vitest';
import { CallList, MAX_LINES, callViews, incomingVerdict, nextCurrent, swapTarget, toneFor, type LineLike } from '../../../web/calls.js';
import { RING_CADENCE, WAITING_CADENCE, cadenceCycle, cadencePeriod } from '../../../web/ringtone.js';

let ids = 0;
/** A line in `state`; `hold` is its CallControl's hold (established calls only). */
function line(state: string, hold?: string, peer = `p${ids + 1}`): LineLike {
  const control = hold ? { hold: { state: hold }, remoteHold: false, link: { state: 'up' }, message: '' } : null;
  return { id: ++ids, peer, direction: 'in', call: { state, reason: '' }, control };
}

describe('web/calls: a new incoming call', () => {
  it('rings normally with no call up, as call waiting with one up', () => {
    expect(incomingVerdict([], { dnd: false })).toEqual({ take: true, waiting: false });
    expect(incomingVerdict([line('ended')], { dnd: false })).toEqual({ take: true, waiting: false });
    expect(incomingVerdict([line('in-call', 'active')], { dnd: false })).toEqual({ take: true, waiting: true });
    expect(incomingVerdict([line('in-call', 'held'), line('in-call', 'active')], { dnd: false })).toEqual({ take: true, waiting: true });
    expect(incomingVerdict([line('calling')], { dnd: false })).toEqual({ take: true, waiting: true });
  });

  it('is refused (486) under do-not-disturb, while another call rings here, or at the line limit', () => {
    expect(incomingVerdict([], { dnd: true })).toEqual({ take: false, why: 'dnd' });
    expect(incomingVerdict([line('in-call', 'active')], { dnd: true })).toEqual({ take: false, why: 'dnd' });
    expect(incomingVerdict([line('incoming')], { dnd: false })).toEqual({ take: false, why: 'ringing' });
    expect(incomingVerdict([line('in-call', 'held'), line('incoming')], { dnd: false })).toEqual({ take: false, why: 'ringing' });
    const full = Array.from({ length: MAX_LINES }, () => line('in-call', 'held'));
    expect(incomingVerdict(full, { dnd: false })).toEqual({ take: false, why: 'limit' });
    expect(incomingVerdict([line('in-call', 'active')], { dnd: false, maxLines: 1 })).toEqual({ take: false, why: 'limit' });
    // Ended calls do not count.
    expect(incomingVerdict([...full.slice(1), line('ended')], { dnd: false })).toEqual({ take: true, waiting: true });
  });
});

describe('web/calls: which call is current', () => {
  it('after the current one ends: the newest active, else the newest held, else one being set up, else the ringing one', () => {
    const held1 = line('in-call', 'held');
    const held2 = line('in-call', 'held');
    const active = line('in-call', 'active');
    const ringing = line('incoming');
    const calling = line('calling');
    expect(nextCurrent([held1, active, held2, ringing])).toBe(active);
    expect(nextCurrent([held1, held2, ringing])).toBe(held2);
    expect(nextCurrent([ringing, calling])).toBe(calling);
    expect(nextCurrent([ringing, line('ended')])).toBe(ringing);
    expect(nextCurrent([line('ended')])).toBeUndefined();
  });

  it('CallList keeps an ended current call current until another takes its place', () => {
    const list = new CallList<LineLike>();
    const a = line('in-call', 'held');
    const b = line('in-call', 'active');
    list.add(a);
    list.add(b);
    list.current = b;
    b.call.state = 'ended';
    list.remove(b);
    expect(list.current).toBe(a);
    expect(list.live()).toEqual([a]);
    a.call.state = 'ended';
    list.remove(a);
    expect(list.current).toBe(a); // the page still shows how the last call ended
    expect(list.lines).toEqual([]);
    expect(list.get(a.id)).toBeUndefined();
  });

  it('Swap resumes the newest held call other than the current one', () => {
    const held1 = line('in-call', 'held');
    const held2 = line('in-call', 'held');
    const active = line('in-call', 'active');
    expect(swapTarget([held1, held2, active], active)).toBe(held2);
    expect(swapTarget([held1, held2, active], held2)).toBe(held1);
    expect(swapTarget([held1, active], held1)).toBeUndefined();
    expect(swapTarget([line('incoming'), active], active)).toBeUndefined();
  });
});

describe('web/calls: tone and list', () => {
  it('rings alone, beeps (waiting) beside another call, is silent without a ringing call', () => {
    expect(toneFor([line('incoming')])).toBe('ring');
    expect(toneFor([line('in-call', 'active'), line('incoming')])).toBe('waiting');
    expect(toneFor([line('in-call', 'held'), line('incoming')])).toBe('waiting');
    expect(toneFor([line('ended'), line('incoming')])).toBe('ring');
    expect(toneFor([line('in-call', 'active')])).toBe('none');
    expect(toneFor([])).toBe('none');
  });

  it('lists every live call: the current one, the held one, the waiting one', () => {
    const held = line('in-call', 'held', 'Alice (1001)');
    const active = line('in-call', 'active', '5551234');
    const waiting = line('incoming', undefined, 'Carrier (5557777)');
    const views = callViews([held, active, waiting, line('ended')], active);
    expect(views).toEqual([
      { id: held.id, peer: 'Alice (1001)', direction: 'in', state: 'in-call', hold: 'held', current: false, waiting: false, label: 'On hold' },
      { id: active.id, peer: '5551234', direction: 'in', state: 'in-call', hold: 'active', current: true, waiting: false, label: 'In call with 5551234' },
      { id: waiting.id, peer: 'Carrier (5557777)', direction: 'in', state: 'incoming', hold: 'active', current: false, waiting: true, label: 'Call waiting: Carrier (5557777)' },
    ]);
    // Alone, a ringing call is an incoming call, not a waiting one.
    expect(callViews([waiting], waiting)[0]).toMatchObject({ waiting: false, label: 'Incoming call from Carrier (5557777)' });
  });
});

describe('web/ringtone: the call-waiting tone', () => {
  it('is two short 440 Hz beeps per 6 s cycle, quieter than the ring', () => {
    expect(WAITING_CADENCE.freqs).toEqual([440]);
    expect(cadencePeriod(WAITING_CADENCE)).toBeCloseTo(6, 9);
    expect(cadencePeriod(RING_CADENCE)).toBe(6);
    expect(WAITING_CADENCE.level).toBeLessThan(RING_CADENCE.level);
    const points = cadenceCycle(10, WAITING_CADENCE);
    const on = points.filter((p) => p.value > 0 && p.ramp).map((p) => p.at);
    const off = points.filter((p) => p.value === 0 && p.ramp).map((p) => p.at);
    expect(on.map((t) => +t.toFixed(3))).toEqual([10.01, 10.41]);
    expect(off.map((t) => +t.toFixed(3))).toEqual([10.2, 10.6]);
    expect(Math.max(...points.map((p) => p.at))).toBeLessThan(10 + cadencePeriod(WAITING_CADENCE));
    // The ring keeps its one burst per cycle.
    expect(cadenceCycle(0, RING_CADENCE)).toHaveLength(4);
  });
});
