// The ring tone's schedule against a fake AudioContext whose clock the test moves with fake timers.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RING_CADENCE, Ringer, cadenceCycle } from '../../../web/ringtone.js';

class FakeParam {
  events: Array<{ kind: 'set' | 'ramp'; value: number; at: number }> = [];
  value = 0;
  setValueAtTime(value: number, at: number) {
    this.events.push({ kind: 'set', value, at });
  }
  linearRampToValueAtTime(value: number, at: number) {
    this.events.push({ kind: 'ramp', value, at });
  }
}
class FakeNode {
  connected: unknown[] = [];
  connect(n: unknown) {
    this.connected.push(n);
  }
  disconnect = vi.fn();
}
class FakeOsc extends FakeNode {
  type = '';
  frequency = new FakeParam();
  start = vi.fn();
  stop = vi.fn();
}
class FakeGain extends FakeNode {
  gain = new FakeParam();
}
class FakeContext {
  state = 'suspended';
  startedAt = Date.now();
  destination = new FakeNode();
  oscillators: FakeOsc[] = [];
  gains: FakeGain[] = [];
  resume = vi.fn(async () => {
    this.state = 'running';
  });
  get currentTime() {
    return (Date.now() - this.startedAt) / 1000;
  }
  createOscillator() {
    const o = new FakeOsc();
    this.oscillators.push(o);
    return o;
  }
  createGain() {
    const g = new FakeGain();
    this.gains.push(g);
    return g;
  }
}

let ctx: FakeContext;
let created = 0;
function newRinger(): Ringer {
  return new Ringer({
    createContext: () => {
      created++;
      ctx = new FakeContext();
      return ctx;
    },
  });
}
/** Start times of the "on" periods scheduled so far (the ramps up to the ring level). */
const onsets = (g: FakeGain) => g.gain.events.filter((e) => e.kind === 'ramp' && e.value > 0).map((e) => Math.round(e.at));

beforeEach(() => {
  vi.useFakeTimers();
  created = 0;
});
afterEach(() => vi.useRealTimers());

describe('web/ringtone', () => {
  it('one cycle: silent, ramp up, 2 s on, ramp down (440 + 480 Hz, 2 s on / 4 s off)', () => {
    expect(RING_CADENCE).toMatchObject({ freqs: [440, 480], onS: 2, offS: 4 });
    const pts = cadenceCycle(10, RING_CADENCE);
    expect(pts[0]).toEqual({ at: 10, value: 0, ramp: false });
    expect(pts.at(-1)).toEqual({ at: 12, value: 0, ramp: true });
    expect(Math.max(...pts.map((p) => p.value))).toBe(RING_CADENCE.level);
    expect(pts.every((p, i) => i === 0 || p.at >= pts[i - 1]!.at)).toBe(true);
  });

  it('rings the two tones at once and keeps scheduling the cadence every 6 s', () => {
    const r = newRinger();
    r.start();
    expect(r.playing).toBe(true);
    expect(ctx.resume).toHaveBeenCalled();
    expect(ctx.oscillators.map((o) => o.frequency.value)).toEqual([440, 480]);
    expect(ctx.oscillators.every((o) => o.start.mock.calls.length === 1)).toBe(true);
    const gain = ctx.gains[0]!;
    expect(onsets(gain)).toEqual([0, 6]);
    vi.advanceTimersByTime(12_000);
    expect(onsets(gain)).toEqual([0, 6, 12, 18]);
    // No on-period was scheduled twice nor left out.
    expect(new Set(onsets(gain)).size).toBe(onsets(gain).length);
  });

  it('stops at once: oscillators stopped, nothing scheduled afterwards; start again reuses the context', () => {
    const r = newRinger();
    r.start();
    r.start(); // no-op while ringing
    expect(ctx.oscillators).toHaveLength(2);
    const [gain] = ctx.gains;
    r.stop();
    expect(r.playing).toBe(false);
    expect(ctx.oscillators.every((o) => o.stop.mock.calls.length === 1)).toBe(true);
    expect(gain!.disconnect).toHaveBeenCalled();
    const scheduled = gain!.gain.events.length;
    vi.advanceTimersByTime(30_000);
    expect(gain!.gain.events.length).toBe(scheduled);
    r.stop(); // no-op when silent
    r.start();
    expect(created).toBe(1);
    expect(ctx.oscillators).toHaveLength(4);
  });

  it('never schedules in the past after a stalled timer', () => {
    const r = newRinger();
    r.start();
    const gain = ctx.gains[0]!;
    // The clock jumps 60 s without the interval firing (a frozen tab), then one tick runs.
    ctx.startedAt -= 60_000;
    vi.advanceTimersByTime(1_000);
    const late = gain.gain.events.filter((e) => e.at >= 60);
    expect(late.length).toBeGreaterThan(0);
    expect(onsets(gain).filter((t) => t > 6 && t < 61)).toEqual([]);
  });
});
