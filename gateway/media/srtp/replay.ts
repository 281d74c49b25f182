// Per-SSRC packet-index tracking: RFC 3711 §3.3.1 index estimation and the §3.3.2 replay list as a
// 64-bit sliding bitmap (two uint32 words, so no BigInt or array per packet).

export const REPLAY_WINDOW = 64;

/** State of one SSRC in one direction. `maxIndex` is the highest index seen (for SRTP it is
 *  ROC·2^16 + s_l, RFC 3711 §3.3.1); bit i of the window (lo = bits 0..31, hi = 32..63) says whether
 *  index maxIndex - i was received. */
export interface StreamState {
  maxIndex: number;
  lo: number;
  hi: number;
}

export function newStreamState(index: number): StreamState {
  return { maxIndex: index, lo: 1, hi: 0 };
}

const SEQ_SPAN = 0x10000;
const HALF = 0x8000;

/**
 * RFC 3711 §3.3.1 / Appendix A: estimate the 48-bit index of an SRTP packet from its 16-bit SEQ
 * and the highest index so far (ROC = maxIndex >> 16, s_l = maxIndex & 0xffff):
 *   if s_l < 2^15: v = ROC - 1 if SEQ - s_l > 2^15, else ROC
 *   else:          v = ROC + 1 if s_l - 2^15 > SEQ, else ROC
 * Returns v·2^16 + SEQ, or -1 when v would be -1 (a packet from before the stream began) or the
 * ROC would overflow 32 bits.
 */
export function estimateIndex(maxIndex: number, seq: number): number {
  const roc = Math.floor(maxIndex / SEQ_SPAN);
  const sl = maxIndex % SEQ_SPAN;
  let v = roc;
  if (sl < HALF) {
    if (seq - sl > HALF) v = roc - 1;
  } else if (sl - HALF > seq) {
    v = roc + 1;
  }
  if (v < 0 || v > 0xffffffff) return -1;
  return v * SEQ_SPAN + seq;
}

/** RFC 3711 §3.3.2: false when `index` is older than the window or already received. */
export function replayCheck(s: StreamState, index: number): boolean {
  if (index > s.maxIndex) return true;
  const delta = s.maxIndex - index;
  if (delta >= REPLAY_WINDOW) return false;
  const bit = delta < 32 ? (s.lo >>> delta) & 1 : (s.hi >>> (delta - 32)) & 1;
  return bit === 0;
}

/** Record an authenticated index: slide the window forward for a new maximum, else mark its bit. */
export function replayAccept(s: StreamState, index: number): void {
  if (index > s.maxIndex) {
    shiftWindow(s, index - s.maxIndex);
    s.maxIndex = index;
    s.lo = (s.lo | 1) >>> 0;
    return;
  }
  const delta = s.maxIndex - index;
  if (delta >= REPLAY_WINDOW) return;
  if (delta < 32) s.lo = (s.lo | (1 << delta)) >>> 0;
  else s.hi = (s.hi | (1 << (delta - 32))) >>> 0;
}

function shiftWindow(s: StreamState, n: number): void {
  if (n >= REPLAY_WINDOW) {
    s.lo = 0;
    s.hi = 0;
  } else if (n >= 32) {
    s.hi = (s.lo << (n - 32)) >>> 0;
    s.lo = 0;
  } else {
    s.hi = ((s.hi << n) | (s.lo >>> (32 - n))) >>> 0;
    s.lo = (s.lo << n) >>> 0;
  }
}
