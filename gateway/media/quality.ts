// Per-call voice quality figures and the estimated MOS (pure). The E-model is ITU-T G.107, simplified
// as is usual for VoIP monitoring (Cole & Rosenbluth, "Voice over IP performance monitoring", 2001):
//   R = 93.2 − Id(delay) − Ie_eff(codec, loss)
// with the same formulas and codec figures as the page's web/mos.js (the browser's own estimate), so the
// gateway's figure for a leg and the page's figure for the same call can be compared. Unit-tested against
// known values (test/unit/media/quality-emodel.test.ts).

/** G.107 (06/2015) §7.1: R with all parameters at their default values. */
export const R_DEFAULT = 93.2;

export interface CodecImpairment {
  /** Equipment impairment Ie. */
  ie: number;
  /** Packet-loss robustness factor Bpl. */
  bpl: number;
}

/** G.113 Appendix I, Tables I.1 / I.3 (as web/mos.js). G.711 with packet loss concealment: Ie 0, Bpl 25.1.
 *  Opus is not in G.113: the G.711 figures stand in for it (an estimate). */
export const CODEC_IMPAIRMENTS: Readonly<Record<string, CodecImpairment>> = Object.freeze({
  PCMU: { ie: 0, bpl: 25.1 },
  PCMA: { ie: 0, bpl: 25.1 },
  OPUS: { ie: 0, bpl: 25.1 },
  G722: { ie: 13, bpl: 25.1 },
  G729: { ie: 11, bpl: 19 },
});

/** Simplified G.107 §7.3 (Cole & Rosenbluth eq. 5): Id = 0.024·d + 0.11·(d − 177.3)·H(d − 177.3), d the
 *  one-way mouth-to-ear delay in ms. */
export function delayImpairment(delayMs: number): number {
  const d = Math.max(0, Number.isFinite(delayMs) ? delayMs : 0);
  return 0.024 * d + (d > 177.3 ? 0.11 * (d - 177.3) : 0);
}

/** G.107 §7.4 eq. 7-29: Ie_eff = Ie + (95 − Ie) · Ppl / (Ppl / BurstR + Bpl); random loss (BurstR 1). */
export function lossImpairment(lossPercent: number, codec: CodecImpairment, burstR = 1): number {
  const ppl = Math.min(100, Math.max(0, Number.isFinite(lossPercent) ? lossPercent : 0));
  const br = burstR > 0 ? burstR : 1;
  return codec.ie + ((95 - codec.ie) * ppl) / (ppl / br + codec.bpl);
}

/** G.107 Annex B eq. B-4: MOS-CQE from R. R ≤ 0 → 1; R ≥ 100 → 4.5. */
export function mosFromR(r: number): number {
  if (!(r > 0)) return 1;
  if (r >= 100) return 4.5;
  return 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6;
}

/** One-way delay from what RTCP tells (as web/mos.js without a jitter buffer figure): half the round trip,
 *  a jitter buffer of twice the jitter, one 20 ms packet. */
export function oneWayDelayMs(rttMs: number | null, jitterMs: number | null): number {
  return (rttMs ?? 0) / 2 + 2 * (jitterMs ?? 0) + 20;
}

/** R and MOS (two decimals) for a direction of a leg. An unknown codec counts as G.711. */
export function estimateMos(s: { lossPercent: number; rttMs?: number | null; jitterMs?: number | null; codec?: string }): { r: number; mos: number } {
  const codec = CODEC_IMPAIRMENTS[String(s.codec ?? '').toUpperCase()] ?? CODEC_IMPAIRMENTS.PCMU!;
  const r = R_DEFAULT - delayImpairment(oneWayDelayMs(s.rttMs ?? null, s.jitterMs ?? null)) - lossImpairment(s.lossPercent, codec);
  return { r: round2(r), mos: round2(mosFromR(r)) };
}

export function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/** One direction of one leg. `in`: what the gateway received from the leg's peer, measured by the gateway
 *  from the RTP itself. `out`: what the peer received from the gateway, as the peer's RTCP receiver
 *  reports say (null figures until one arrived; `packets` is what the gateway sent). */
export interface DirectionQuality {
  /** RTP packets received (in) or sent (out) on this leg. */
  packets: number;
  /** RFC 3550 A.3: packets expected (highest − first sequence number + 1); out: null without a report. */
  expected: number | null;
  /** Cumulative packets lost (negative: duplicates); out: null without a report. */
  lost: number | null;
  /** lost / expected × 100 over the whole call so far. */
  lossPercent: number | null;
  /** Loss in the latest report interval (RFC 3550 §6.4.1 fraction lost) × 100. */
  intervalLossPercent: number | null;
  /** RFC 3550 A.8 interarrival jitter in ms. */
  jitterMs: number | null;
  /** Estimated MOS (G.107 simplified) from lossPercent, jitter and the leg's round trip; null without loss figures. */
  mos: number | null;
}

export interface LegQuality {
  /** The SIP tag of the side the leg faces (as the media engine knows it). */
  tag: string;
  profile: 'rtp' | 'webrtc';
  /** The codec in use toward this leg (encoding name), when known. */
  codec?: string;
  in: DirectionQuality;
  out: DirectionQuality;
  /** Round trip gateway ⇄ this leg's peer from RFC 3550 §6.4.1 LSR/DLSR (ms); null until the peer
   *  answered an SR with a report block. */
  rttMs: number | null;
  /** RTCP compound packets received from / sent to the peer (sent: relayed or generated). */
  rtcpIn: number;
  rtcpOut: number;
  /** RTCP from the peer that did not parse (counted, dropped from the figures; relayed as before). */
  rtcpErrors: number;
}

/** A call's figures per leg, keyed by the tag of the side each leg faces. */
export interface CallQuality {
  legs: LegQuality[];
  /** Where the figures come from: the embedded engine's own count, or rtpengine's `query`/`delete` stats. */
  source: 'embedded' | 'rtpengine';
}

/** What a call detail record keeps of a call's quality (gateway/cdr): the final figures per leg. */
export type QualitySummary = CallQuality;

/** A direction's MOS from its figures and the leg's round trip. */
export function directionMos(d: Omit<DirectionQuality, 'mos'>, rttMs: number | null, codec?: string): number | null {
  if (d.lossPercent === null) return null;
  return estimateMos({ lossPercent: Math.max(0, d.lossPercent), rttMs, jitterMs: d.jitterMs, codec }).mos;
}
