// Call quality from RTCPeerConnection.getStats (W3C webrtc-stats): packet loss both ways, jitter,
// round-trip time and an estimated MOS (mos.js), sampled once a second for each call, kept for the
// call's graph, and network warnings when quality drops (named as Twilio's Voice SDK names them:
// high-packet-loss, high-jitter, high-rtt, low-mos; and no-input, its constant-audio-input-level: the
// microphone gives nothing although the call is neither muted nor held). The pure part (readStats, QualityTracker) has no
// DOM and no WebRTC: unit-tested (test/unit/web/quality.test.ts); QualityMonitor polls a peer connection.
import { estimateMos } from './mos.js';

/** Sampling period of getStats (ms). */
export const SAMPLE_MS = 1000;
/** The loss a sample shows is measured over this many seconds (one second holds only 50 packets). */
export const LOSS_WINDOW_S = 5;
/** Samples kept for the graph (one per second: the last 10 minutes). */
export const MAX_SAMPLES = 600;

/** When a warning is raised: its figure beyond the threshold in `RAISE` of the last `OF` samples;
 *  cleared again when at most `CLEAR` of them are. */
export const THRESHOLDS = Object.freeze({ lossPercent: 3, jitterMs: 30, rttMs: 400, mos: 3.5 });
const OF = 5;
const RAISE = 3;
const CLEAR = 1;

/** @typedef {'high-packet-loss' | 'high-jitter' | 'high-rtt' | 'low-mos' | 'no-input'} Warning */
/** Below this audioLevel (0…1, linear; RFC 6464 −dBov ≈ −60 dB) the microphone counts as silent. */
export const SILENT_INPUT = 0.001;
/** @typedef {{ at: number, received: number, lost: number, jitterMs: number | null, jbDelayS: number,
 *              jbEmitted: number, rttMs: number | null, remoteLossPercent: number | null, codec: string,
 *              inputLevel?: number | null }} Snapshot */
/** @typedef {{ at: number, lossPercent: number | null, remoteLossPercent: number | null, jitterMs: number | null,
 *              rttMs: number | null, jitterBufferMs: number | null, mos: number | null, r: number | null,
 *              codec: string, inputLevel: number | null }} Sample */

/**
 * The audio figures of one getStats report: inbound-rtp (what we receive: packetsReceived,
 * packetsLost, jitter, jitterBuffer*), remote-inbound-rtp (the far end's RTCP receiver report on what
 * we send: fractionLost, roundTripTime), the selected candidate pair's currentRoundTripTime (STUN)
 * when RTCP gave no round trip, and the codec's name.
 * @param {{ forEach(cb: (s: any) => void): void }} report @param {number} at ms
 * @returns {Snapshot}
 */
export function readStats(report, at) {
  /** @type {Snapshot} */
  const snap = { at, received: 0, lost: 0, jitterMs: null, jbDelayS: 0, jbEmitted: 0, rttMs: null, remoteLossPercent: null, codec: '', inputLevel: null };
  /** @type {Map<string, any>} */ const byId = new Map();
  report.forEach((s) => byId.set(s.id, s));
  let selectedPair = '';
  let pairRtt = null;
  let codecId = '';
  for (const s of byId.values()) {
    const audio = (s.kind ?? s.mediaType) === 'audio';
    if (s.type === 'inbound-rtp' && audio) {
      snap.received += s.packetsReceived ?? 0;
      snap.lost += Math.max(0, s.packetsLost ?? 0); // RFC 3550 §6.4.1: duplicates may make it negative
      if (typeof s.jitter === 'number') snap.jitterMs = s.jitter * 1000;
      snap.jbDelayS += s.jitterBufferDelay ?? 0;
      snap.jbEmitted += s.jitterBufferEmittedCount ?? 0;
      codecId = s.codecId ?? codecId;
    }
    if (s.type === 'remote-inbound-rtp' && audio) {
      if (typeof s.roundTripTime === 'number') snap.rttMs = s.roundTripTime * 1000;
      if (typeof s.fractionLost === 'number') snap.remoteLossPercent = s.fractionLost * 100;
    }
    if (s.type === 'transport' && s.selectedCandidatePairId) selectedPair = s.selectedCandidatePairId;
    // webrtc-stats §8.6 media-source: the microphone's level before encoding (a muted track gives 0).
    if (s.type === 'media-source' && s.kind === 'audio' && typeof s.audioLevel === 'number') snap.inputLevel = s.audioLevel;
  }
  const pair = byId.get(selectedPair);
  if (pair && typeof pair.currentRoundTripTime === 'number') pairRtt = pair.currentRoundTripTime * 1000;
  snap.rttMs ??= pairRtt;
  const mime = String(byId.get(codecId)?.mimeType ?? '');
  snap.codec = mime.replace(/^audio\//i, '');
  return snap;
}

/** @param {number} v */
const round1 = (v) => Math.round(v * 10) / 10;

/** The quality of one call over time: a sample per snapshot, the warnings in force. */
export class QualityTracker {
  constructor() {
    /** @type {Snapshot[]} */ this.snapshots = [];
    /** @type {Sample[]} */ this.samples = [];
    /** @type {Set<Warning>} */ this.warnings = new Set();
  }

  /**
   * Adds a snapshot; returns the sample it makes (null for the first one, which has nothing to compare
   * with) and which warnings were raised or cleared by it. `quiet`: the call is muted or held (our
   * microphone is meant to be silent: no input level is judged).
   * @param {Snapshot} snap @param {{ quiet?: boolean }} [opts]
   * @returns {{ sample: Sample | null, raised: Warning[], cleared: Warning[] }}
   */
  push(snap, opts = {}) {
    const prev = this.snapshots[this.snapshots.length - 1];
    this.snapshots.push(snap);
    const windowStart = this.#windowStart(snap.at);
    if (this.snapshots.length > LOSS_WINDOW_S + 2) this.snapshots.shift();
    if (!prev) return { sample: null, raised: [], cleared: [] };
    const sample = this.#sample(windowStart, prev, snap);
    if (opts.quiet) sample.inputLevel = null;
    this.samples.push(sample);
    if (this.samples.length > MAX_SAMPLES) this.samples.shift();
    return { sample, ...this.#warn() };
  }

  /** The latest sample, or null before the second snapshot. */
  get last() {
    return this.samples[this.samples.length - 1] ?? null;
  }

  /** The oldest snapshot within LOSS_WINDOW_S of `at`. @param {number} at */
  #windowStart(at) {
    return this.snapshots.find((s) => at - s.at <= LOSS_WINDOW_S * 1000 + 100) ?? this.snapshots[0];
  }

  /** @param {Snapshot} from window start @param {Snapshot} prev @param {Snapshot} cur @returns {Sample} */
  #sample(from, prev, cur) {
    const got = Math.max(0, cur.received - from.received);
    const lost = Math.max(0, cur.lost - from.lost);
    // No packets at all in the window (held, or a one-way call): no loss figure rather than a false one.
    const lossPercent = got + lost > 0 ? round1((100 * lost) / (got + lost)) : null;
    const emitted = cur.jbEmitted - prev.jbEmitted;
    const jitterBufferMs = emitted > 0 ? ((cur.jbDelayS - prev.jbDelayS) / emitted) * 1000 : null;
    const receiving = cur.received > prev.received;
    const worstLoss = Math.max(lossPercent ?? 0, cur.remoteLossPercent ?? 0);
    const est = lossPercent === null && cur.remoteLossPercent === null ? null
      : estimateMos({ lossPercent: worstLoss, rttMs: cur.rttMs, jitterMs: cur.jitterMs, jitterBufferMs, codec: cur.codec });
    return {
      at: cur.at,
      lossPercent,
      remoteLossPercent: cur.remoteLossPercent === null ? null : round1(cur.remoteLossPercent),
      jitterMs: receiving && cur.jitterMs !== null ? round1(cur.jitterMs) : null,
      rttMs: cur.rttMs === null ? null : Math.round(cur.rttMs),
      jitterBufferMs: jitterBufferMs === null ? null : Math.round(jitterBufferMs),
      mos: est?.mos ?? null,
      r: est?.r ?? null,
      codec: cur.codec,
      inputLevel: cur.inputLevel ?? null,
    };
  }

  #warn() {
    const recent = this.samples.slice(-OF);
    /** @type {Record<Warning, (s: Sample) => boolean>} */
    const bad = {
      'high-packet-loss': (s) => Math.max(s.lossPercent ?? 0, s.remoteLossPercent ?? 0) > THRESHOLDS.lossPercent,
      'high-jitter': (s) => (s.jitterMs ?? 0) > THRESHOLDS.jitterMs,
      'high-rtt': (s) => (s.rttMs ?? 0) > THRESHOLDS.rttMs,
      'low-mos': (s) => s.mos !== null && s.mos < THRESHOLDS.mos,
      // Every one of the last OF samples silent (a pause in speech lasts less; Chromium's fake device and a
      // real microphone both give a level above this while the call is live).
      'no-input': (s) => s.inputLevel !== null && s.inputLevel < SILENT_INPUT,
    };
    /** @type {Warning[]} */ const raised = [];
    /** @type {Warning[]} */ const cleared = [];
    for (const [name, test] of /** @type {Array<[Warning, (s: Sample) => boolean]>} */ (Object.entries(bad))) {
      const n = recent.filter(test).length;
      const raiseAt = name === 'no-input' ? OF : RAISE;
      if (!this.warnings.has(name) && n >= raiseAt) {
        this.warnings.add(name);
        raised.push(name);
      } else if (this.warnings.has(name) && n <= CLEAR) {
        this.warnings.delete(name);
        cleared.push(name);
      }
    }
    return { raised, cleared };
  }
}

/** What each warning tells a person (the first one in force is shown). */
export const WARNING_TEXT = Object.freeze({
  'high-packet-loss': 'Poor connection: parts of the call are being lost. Move closer to your Wi-Fi or close other downloads.',
  'high-jitter': 'Unsteady connection: the audio may break up.',
  'high-rtt': 'Slow connection: expect a delay when you talk.',
  'low-mos': 'Call quality is low.',
  'no-input': 'The other side may not hear you: your microphone gives no sound. Check it, or choose another in Audio settings.',
});

/** Polls a peer connection's getStats every SAMPLE_MS into a QualityTracker until stopped. */
export class QualityMonitor {
  /**
   * @param {{ getStats(): Promise<any>, connectionState?: string }} pc
   * @param {(m: QualityMonitor, change: { sample: Sample | null, raised: Warning[], cleared: Warning[] }) => void} onSample
   * @param {() => number} [now]
   * @param {() => boolean} [quiet] the call is muted or held now
   */
  constructor(pc, onSample, now = () => Date.now(), quiet = () => false) {
    this.quiet = quiet;
    this.pc = pc;
    this.tracker = new QualityTracker();
    this.onSample = onSample;
    this.now = now;
    /** @type {ReturnType<typeof setInterval> | undefined} */
    this.timer = setInterval(() => void this.poll(), SAMPLE_MS);
    void this.poll();
  }

  async poll() {
    if (!this.timer) return;
    if (this.pc.connectionState === 'closed') return this.stop();
    try {
      const change = this.tracker.push(readStats(await this.pc.getStats(), this.now()), { quiet: this.quiet() });
      if (this.timer) this.onSample(this, change);
    } catch {
      // the peer connection closed between the check and getStats: the next poll stops
    }
    return undefined;
  }

  stop() {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
