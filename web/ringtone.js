// The ring of an incoming call, generated with WebAudio (no audio file): two summed sine tones
// switched on and off in the usual cadence. No sip.js, no DOM beyond WebAudio; the AudioContext is
// injectable so the schedule is unit-tested with fake timers.

/**
 * North American ringing: 440 Hz + 480 Hz, 2 s on / 4 s off (ITU-T E.180 Supplement 2, "ringing
 * tone" for the United States; the same 2/4 s cadence as the bell).
 */
export const RING_CADENCE = Object.freeze({ freqs: Object.freeze([440, 480]), onS: 2, offS: 4, level: 0.12 });

/**
 * Call waiting: a short tone while another call is up, not the ring — 440 Hz as the call-waiting tone of
 * ITU-T E.180 Supplement 2 (United States), here two 0.2 s beeps 0.2 s apart, once every 6 s, quieter
 * than the ring so it does not drown the call.
 */
export const WAITING_CADENCE = Object.freeze({ freqs: Object.freeze([440]), onS: 0.2, offS: 5.4, beeps: 2, gapS: 0.2, level: 0.08 });

/** @typedef {{ onS: number, offS: number, level: number, beeps?: number, gapS?: number }} Cadence */

/** One cycle's length: `beeps` bursts of onS, gapS between them, then offS. @param {Cadence} c */
export function cadencePeriod(c) {
  const beeps = c.beeps ?? 1;
  return beeps * c.onS + (beeps - 1) * (c.gapS ?? 0) + c.offS;
}

/** Edges are ramped over this many seconds so the tone does not click. */
const RAMP_S = 0.01;
/** How often the schedule is topped up, and how far ahead it reaches. */
const TICK_MS = 1000;

/**
 * The gain points of one cadence cycle starting at `t` (audio clock seconds): for each burst, silent at
 * its start, ramp to `level`, hold for onS, ramp back to 0 (bursts gapS apart). Pure: unit-tested.
 * @param {number} t
 * @param {Cadence} cadence
 * @returns {Array<{ at: number, value: number, ramp: boolean }>}
 */
export function cadenceCycle(t, cadence) {
  const points = [];
  for (let i = 0; i < (cadence.beeps ?? 1); i++) {
    const at = t + i * (cadence.onS + (cadence.gapS ?? 0));
    points.push(
      { at, value: 0, ramp: false },
      { at: at + RAMP_S, value: cadence.level, ramp: true },
      { at: at + cadence.onS - RAMP_S, value: cadence.level, ramp: false },
      { at: at + cadence.onS, value: 0, ramp: true },
    );
  }
  return points;
}

export class Ringer {
  /** @param {{ createContext?: () => AudioContext, cadence?: Cadence & { freqs: readonly number[] },
   *             sinkId?: () => string }} [opts] sinkId: the output the call's audio plays on ('' = default) */
  constructor(opts = {}) {
    this.sinkId = opts.sinkId ?? (() => '');
    this.createContext = opts.createContext ?? (() => new AudioContext());
    this.cadence = opts.cadence ?? RING_CADENCE;
    /** @type {AudioContext | null} */ this.ctx = null;
    /** @type {GainNode | null} */ this.gain = null;
    /** @type {OscillatorNode[]} */ this.oscillators = [];
    this.timer = /** @type {ReturnType<typeof setInterval> | undefined} */ (undefined);
    this.nextAt = 0;
  }

  get playing() {
    return this.gain !== null;
  }

  /** Creates/resumes the AudioContext; call it from a user gesture (browsers' autoplay policy). */
  unlock() {
    this.ctx ??= this.createContext();
    if (this.ctx.state === 'suspended') void this.ctx.resume().catch(() => undefined);
    return this.ctx;
  }

  /** Starts ringing (no-op while already ringing). */
  start() {
    if (this.playing) return;
    const ctx = this.unlock();
    // The tone sounds where the call does: the output chosen for the call's audio (Chrome's
    // AudioContext.setSinkId; elsewhere the default output, as the call's audio element then uses).
    const sink = this.sinkId();
    const anyCtx = /** @type {any} */ (ctx);
    if (sink && typeof anyCtx.setSinkId === 'function' && anyCtx.sinkId !== sink) void anyCtx.setSinkId(sink).catch(() => undefined);
    const gain = ctx.createGain();
    gain.gain.setValueAtTime(0, ctx.currentTime);
    gain.connect(ctx.destination);
    this.oscillators = this.cadence.freqs.map((f) => {
      const osc = ctx.createOscillator();
      osc.type = 'sine';
      osc.frequency.value = f;
      osc.connect(gain);
      osc.start();
      return osc;
    });
    this.gain = gain;
    this.nextAt = ctx.currentTime;
    this.#topUp();
    this.timer = setInterval(() => this.#topUp(), TICK_MS);
  }

  /** Schedules whole cycles until the schedule reaches one period past the audio clock. */
  #topUp() {
    const ctx = this.ctx;
    const gain = this.gain;
    if (!ctx || !gain) return;
    const period = cadencePeriod(this.cadence);
    // A stalled timer must not schedule cycles in the past (they would all play at once).
    if (this.nextAt < ctx.currentTime) this.nextAt = ctx.currentTime;
    while (this.nextAt <= ctx.currentTime + period) {
      for (const p of cadenceCycle(this.nextAt, this.cadence)) {
        if (p.ramp) gain.gain.linearRampToValueAtTime(p.value, p.at);
        else gain.gain.setValueAtTime(p.value, p.at);
      }
      this.nextAt += period;
    }
  }

  /** Stops ringing at once (no-op when silent). */
  stop() {
    clearInterval(this.timer);
    this.timer = undefined;
    const gain = this.gain;
    if (!gain) return;
    this.gain = null;
    for (const osc of this.oscillators) {
      try {
        osc.stop();
      } catch {
        // already stopped
      }
      osc.disconnect();
    }
    this.oscillators = [];
    gain.disconnect();
  }
}
