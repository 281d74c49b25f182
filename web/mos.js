// An estimated MOS for a call from what getStats tells: the ITU-T G.107 E-model, simplified as is usual
// for VoIP monitoring (Cole & Rosenbluth, "Voice over IP performance monitoring", 2001):
//   R = 93.2 − Id − Ie_eff
// 93.2 is R with every G.107 parameter at its default value (no delay, no loss: G.107 §7.1),
// Id the delay impairment, Ie_eff the equipment (codec + packet loss) impairment; the other G.107 terms
// keep their default values. Pure module: no DOM, no WebRTC. Unit-tested (test/unit/web/mos.test.ts).

/** G.107 (06/2015) §7.1: R with all parameters at their default values. */
export const R_DEFAULT = 93.2;

/**
 * G.113 Appendix I, Table I.1 / I.3: equipment impairment Ie and packet-loss robustness Bpl per codec.
 * G.711 with packet loss concealment (Chromium's NetEq conceals every lost frame): Ie 0, Bpl 25.1.
 * Opus is not in G.113: the G.711 figures stand in for it (an estimate, said so in the panel).
 */
export const CODECS = Object.freeze({
  PCMU: { ie: 0, bpl: 25.1 },
  PCMA: { ie: 0, bpl: 25.1 },
  G722: { ie: 13, bpl: 25.1 }, // G.113 Table I.1 (64 kbit/s, with PLC)
  G729: { ie: 11, bpl: 19 }, // G.113 Table I.1 / I.3 (G.729A + VAD)
});

/**
 * Delay impairment Id from the one-way mouth-to-ear delay d (ms), the simplified form of G.107 §7.3
 * (Cole & Rosenbluth eq. 5): Id = 0.024·d + 0.11·(d − 177.3)·H(d − 177.3), H the step function.
 * @param {number} delayMs
 */
export function delayImpairment(delayMs) {
  const d = Math.max(0, Number(delayMs) || 0);
  return 0.024 * d + (d > 177.3 ? 0.11 * (d - 177.3) : 0);
}

/**
 * G.107 §7.4 eq. 7-29: Ie_eff = Ie + (95 − Ie) · Ppl / (Ppl / BurstR + Bpl), Ppl the packet-loss
 * percentage, BurstR the burst ratio (1 for random loss, which is what getStats lets us assume).
 * @param {number} lossPercent @param {{ ie: number, bpl: number }} codec @param {number} [burstR]
 */
export function lossImpairment(lossPercent, codec, burstR = 1) {
  const ppl = Math.min(100, Math.max(0, Number(lossPercent) || 0));
  const br = burstR > 0 ? burstR : 1;
  return codec.ie + ((95 - codec.ie) * ppl) / (ppl / br + codec.bpl);
}

/**
 * G.107 Annex B eq. B-4: MOS (conversational quality estimated, MOS-CQE) from R.
 * R < 0 → 1; R > 100 → 4.5; else 1 + 0.035·R + R·(R − 60)·(100 − R)·7·10⁻⁶.
 * @param {number} r
 */
export function mosFromR(r) {
  if (!(r > 0)) return 1;
  if (r >= 100) return 4.5;
  return 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6;
}

/**
 * One-way mouth-to-ear delay (ms) from what a peer connection reports: half the round trip, the jitter
 * buffer's delay (or, without one, twice the jitter) and one 20 ms packet of packetisation.
 * @param {{ rttMs?: number | null, jitterMs?: number | null, jitterBufferMs?: number | null }} s
 */
export function oneWayDelayMs(s) {
  const rtt = s.rttMs ?? 0;
  const buffer = s.jitterBufferMs ?? 2 * (s.jitterMs ?? 0);
  return rtt / 2 + buffer + 20;
}

/**
 * The estimated call quality: R and MOS (one decimal place is what people can read; two are kept).
 * @param {{ lossPercent: number, rttMs?: number | null, jitterMs?: number | null, jitterBufferMs?: number | null,
 *           codec?: string }} s
 * @returns {{ r: number, mos: number }}
 */
export function estimateMos(s) {
  const codec = /** @type {Record<string, { ie: number, bpl: number }>} */ (CODECS)[String(s.codec ?? '').toUpperCase()] ?? CODECS.PCMU;
  const r = R_DEFAULT - delayImpairment(oneWayDelayMs(s)) - lossImpairment(s.lossPercent, codec);
  return { r: Math.round(r * 100) / 100, mos: Math.round(mosFromR(r) * 100) / 100 };
}

/**
 * What a MOS means to a person (G.109 Table 1 categories of R, mapped to MOS):
 * ≥ 4.0 good, ≥ 3.6 fair, ≥ 3.1 poor, below that bad.
 * @param {number} mos @returns {'good' | 'fair' | 'poor' | 'bad'}
 */
export function mosGrade(mos) {
  if (mos >= 4.0) return 'good';
  if (mos >= 3.6) return 'fair';
  if (mos >= 3.1) return 'poor';
  return 'bad';
}
