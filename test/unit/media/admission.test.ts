// Media admission control (gateway/media/admission.ts) with fake inputs: the pure decision (thresholds,
// two windows to refuse, one window below 90 % to admit again), the per-thread Admission on fake timers
// with a fake load probe (what it refuses, counts and reports), and the call layer's mapping of the
// engine's 'overloaded' refusal to 503 + Retry-After.
import { pino, type Logger } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Admission, DEFAULT_ADMISSION, decideAdmitting, type LoadProbe, type WindowLoad } from '../../../gateway/media/admission.js';
import { MediaError } from '../../../gateway/media/types.js';
import { callerFinalForMedia, mediaRefusalLevel } from '../../../gateway/call/responses.js';
import { configSchema } from '../../../gateway/config/schema.js';

const limits = { enabled: true, maxUtilization: 0.9, maxDelayMs: 50 };
const w = (utilization: number, delayP99Ms = 0): WindowLoad => ({ utilization, delayP99Ms });
const quiet = w(0.2, 2);

describe('decideAdmitting (pure)', () => {
  it('admits at rest and with no window yet', () => {
    expect(decideAdmitting(true, [], limits)).toBe(true);
    expect(decideAdmitting(true, [quiet, quiet, quiet], limits)).toBe(true);
  });

  it('one busy window (a full GC, a burst of handshakes) does not refuse; two in a row do', () => {
    expect(decideAdmitting(true, [quiet, w(0.95)], limits)).toBe(true);
    expect(decideAdmitting(true, [quiet, w(0.2, 300)], limits)).toBe(true);
    expect(decideAdmitting(true, [w(0.95), w(0.2, 300)], limits)).toBe(false); // either threshold, each window
    expect(decideAdmitting(true, [quiet, w(0.95), w(0.96)], limits)).toBe(false);
    expect(decideAdmitting(true, [w(0.95), quiet, w(0.96)], limits)).toBe(true); // not consecutive
  });

  it('the thresholds themselves are not over: strictly above refuses', () => {
    expect(decideAdmitting(true, [w(0.9, 50), w(0.9, 50)], limits)).toBe(true);
    expect(decideAdmitting(true, [w(0.9001), w(0.9001)], limits)).toBe(false);
    expect(decideAdmitting(true, [w(0, 50.5), w(0, 51)], limits)).toBe(false);
  });

  it('hysteresis: while refusing, a window just under the thresholds keeps refusing; one under 90 % of both admits', () => {
    expect(decideAdmitting(false, [w(0.95), w(0.85)], limits)).toBe(false); // 0.85 ≥ 0.81
    expect(decideAdmitting(false, [w(0.95), w(0.5, 46)], limits)).toBe(false); // 46 ≥ 45 ms
    expect(decideAdmitting(false, [w(0.95), w(0.8, 44)], limits)).toBe(true);
    expect(decideAdmitting(false, [w(0.95), w(0.95), quiet], limits)).toBe(true); // the latest window decides
  });

  it('disabled: always admits, whatever the load', () => {
    expect(decideAdmitting(true, [w(1, 900), w(1, 900)], { ...limits, enabled: false })).toBe(true);
    expect(decideAdmitting(false, [w(1, 900)], { ...limits, enabled: false })).toBe(true);
  });
});

/** A probe that returns the queued windows, then `rest`. */
function fakeProbe(rest: WindowLoad = quiet): LoadProbe & { queue: WindowLoad[]; closed: boolean } {
  const probe = {
    queue: [] as WindowLoad[],
    closed: false,
    sample: () => probe.queue.shift() ?? rest,
    close: () => void (probe.closed = true),
  };
  return probe;
}

function captureLogger(): { logger: Logger; lines: Array<{ level: number; msg: string; [k: string]: unknown }> } {
  const lines: Array<{ level: number; msg: string }> = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { logger, lines };
}

describe('Admission (fake timers, fake probe)', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('samples a window every windowMs; refuses after two busy windows, admits after one quiet one; counts and logs once per burst', () => {
    const probe = fakeProbe();
    const { logger, lines } = captureLogger();
    const a = new Admission({ ...limits, probe, windowMs: 500 }, logger);
    expect(a.admits()).toBe(true);
    probe.queue.push(w(0.97, 10), w(0.99, 120));
    vi.advanceTimersByTime(500);
    expect(a.admits()).toBe(true); // one busy window
    expect(a.load()).toMatchObject({ utilization: 0.97, delayP99Ms: 10, admitting: true, refused: 0 });
    vi.advanceTimersByTime(500);
    expect(a.load()).toMatchObject({ utilization: 0.99, delayP99Ms: 120, admitting: false });
    for (let i = 0; i < 3; i++) expect(() => a.check(`call-${i}`, false)).toThrowError(MediaError);
    expect(() => a.check('up-already', true)).not.toThrow(); // a call the engine holds goes on
    expect(a.load().refused).toBe(3);
    probe.queue.push(w(0.85, 5)); // under the thresholds, not under 90 % of them
    vi.advanceTimersByTime(500);
    expect(a.admits()).toBe(false);
    vi.advanceTimersByTime(500); // a quiet window
    expect(a.admits()).toBe(true);
    expect(a.load()).toMatchObject({ admitting: true, refused: 4 });
    const said = lines.filter((l) => /media admission/.test(l.msg));
    expect(said.map((l) => [l.level, l.msg])).toEqual([
      [40, 'media admission: engine loop too busy, new calls get 503'],
      [30, 'media admission: new calls admitted again'],
    ]);
    expect(said[1]).toMatchObject({ refused: 4 });
    a.close();
    expect(probe.closed).toBe(true);
  });

  it('the error a refused new call gets is MediaError overloaded', () => {
    const probe = fakeProbe(w(1, 500));
    const a = new Admission({ ...limits, probe }, pino({ level: 'silent' }));
    vi.advanceTimersByTime(1000);
    const err = (() => {
      try {
        a.check('k', false);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(MediaError);
    expect((err as MediaError).code).toBe('overloaded');
    a.close();
  });

  it('engineLoad: the worker index and the live call count with the latest window', () => {
    const probe = fakeProbe(w(0.4, 7));
    const a = new Admission({ probe, worker: 3 }, pino({ level: 'silent' }));
    vi.advanceTimersByTime(500);
    expect(a.engineLoad(12)).toEqual({ worker: 3, calls: 12, utilization: 0.4, delayP99Ms: 7, admitting: true, refused: 0 });
    expect(a.limits).toEqual(DEFAULT_ADMISSION);
    a.close();
  });

  it('enabled: false measures but never refuses', () => {
    const probe = fakeProbe(w(1, 900));
    const a = new Admission({ ...limits, enabled: false, probe }, pino({ level: 'silent' }));
    vi.advanceTimersByTime(2000);
    expect(a.admits()).toBe(true);
    expect(a.load()).toMatchObject({ utilization: 1, delayP99Ms: 900, admitting: true, refused: 0 });
    a.close();
  });
});

describe('the call layer: overloaded → 503 with Retry-After', () => {
  it('maps MediaError overloaded to 503 + Retry-After (the configured seconds); no-ports stays a plain 503', () => {
    expect(callerFinalForMedia(new MediaError('overloaded', 'busy'), 7)).toEqual({
      status: 503,
      reason: 'Service Unavailable: Media Overloaded',
      headers: [{ name: 'Retry-After', value: '7' }],
    });
    expect(callerFinalForMedia(new MediaError('no-ports', 'none'), 7)).toEqual({ status: 503, reason: 'Service Unavailable' });
  });

  it('an overload refusal is logged per call at debug only (the engine warns once per burst); others at info', () => {
    expect(mediaRefusalLevel(new MediaError('overloaded', 'busy'))).toBe('debug');
    expect(mediaRefusalLevel(new MediaError('no-ports', 'none'))).toBe('info');
    expect(mediaRefusalLevel(new Error('x'))).toBe('info');
  });

  it('config media.admission defaults', () => {
    expect(configSchema.parse({}).media.admission).toEqual({ enabled: true, maxUtilization: 0.9, maxDelayMs: 50, retryAfter: 5 });
    expect(() => configSchema.parse({ media: { admission: { maxUtilization: 1.5 } } })).toThrow();
    expect(() => configSchema.parse({ media: { admission: { retryAfter: 0 } } })).toThrow();
  });
});
