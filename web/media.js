// Media observation for the UI and the test hook: RTP packet counts from getStats and a tone
// meter on the remote audio (WebAudio AnalyserNode). No sip.js, no DOM beyond WebAudio.

/**
 * Audio RTP packet counts of a peer connection: inbound-rtp packetsReceived and outbound-rtp
 * packetsSent (W3C webrtc-stats §8.3 / §8.5), summed over audio streams.
 * @param {RTCPeerConnection | null} pc
 * @returns {Promise<{ packetsReceived: number, packetsSent: number }>}
 */
export async function rtpCounts(pc) {
  const counts = { packetsReceived: 0, packetsSent: 0 };
  if (!pc || pc.connectionState === 'closed') return counts;
  const report = await pc.getStats();
  report.forEach((/** @type {any} */ s) => {
    const kind = s.kind ?? s.mediaType;
    if (kind !== 'audio') return;
    if (s.type === 'inbound-rtp') counts.packetsReceived += s.packetsReceived ?? 0;
    if (s.type === 'outbound-rtp') counts.packetsSent += s.packetsSent ?? 0;
  });
  return counts;
}

/**
 * How much `freqHz` stands out in a spectrum given in dBFS per bin: the linear magnitude of the
 * strongest bin within ±1 of freqHz, divided by the mean linear magnitude of all bins.
 * ~1 for noise, ≫ 1 for a tone at freqHz, 0 for silence. Pure function: unit-tested.
 * @param {ArrayLike<number>} dbBins
 * @param {number} sampleRate
 * @param {number} freqHz
 */
export function toneLevelFromSpectrum(dbBins, sampleRate, freqHz) {
  const n = dbBins.length;
  if (n === 0 || !(freqHz > 0) || freqHz >= sampleRate / 2) return 0;
  const binHz = sampleRate / 2 / n;
  const centre = Math.round(freqHz / binHz);
  let sum = 0;
  let peak = 0;
  for (let i = 0; i < n; i++) {
    const db = dbBins[i] ?? -Infinity;
    const lin = Number.isFinite(db) ? 10 ** (db / 20) : 0;
    sum += lin;
    if (Math.abs(i - centre) <= 1 && lin > peak) peak = lin;
  }
  const mean = sum / n;
  return mean > 0 ? peak / mean : 0;
}

/** Measures tones in a MediaStream through an AnalyserNode. */
export class ToneMeter {
  constructor() {
    /** @type {AudioContext | null} */ this.ctx = null;
    /** @type {AnalyserNode | null} */ this.analyser = null;
    /** @type {MediaStreamAudioSourceNode | null} */ this.source = null;
  }

  /** @param {MediaStream} stream */
  attach(stream) {
    this.detach();
    if (stream.getAudioTracks().length === 0) return;
    this.ctx ??= new AudioContext();
    if (this.ctx.state === 'suspended') void this.ctx.resume().catch(() => undefined);
    this.source = this.ctx.createMediaStreamSource(stream);
    this.analyser = this.ctx.createAnalyser();
    this.analyser.fftSize = 4096;
    this.analyser.smoothingTimeConstant = 0.5;
    this.source.connect(this.analyser);
  }

  detach() {
    this.source?.disconnect();
    this.source = null;
    this.analyser = null;
  }

  /** @param {number} freqHz */
  level(freqHz) {
    const a = this.analyser;
    if (!a || !this.ctx) return 0;
    const bins = new Float32Array(a.frequencyBinCount);
    a.getFloatFrequencyData(bins);
    return toneLevelFromSpectrum(bins, this.ctx.sampleRate, freqHz);
  }
}
