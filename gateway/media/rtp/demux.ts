// RFC 7983 §7 demultiplexing of one UDP 5-tuple carrying STUN, DTLS, RTP and RTCP, decided on the
// first byte (and, for RTP vs RTCP, the second: RFC 5761 §4). Allocation-free: one packet in, one
// string literal out.

export type PacketKind = 'stun' | 'dtls' | 'rtp' | 'rtcp' | 'unknown';

/** Smallest well-formed packet of each kind: STUN header (RFC 5389 §6), DTLS record header
 *  (RFC 6347 §4.1), RTCP common header + SSRC (RFC 3550 §6.4), RTP fixed header (RFC 3550 §5.1). */
const STUN_MIN = 20;
const DTLS_MIN = 13;
const RTCP_MIN = 8;
const RTP_MIN = 12;

/**
 * RFC 7983 §7: "If the value of the first byte is in [0..3] → STUN; [20..63] → DTLS;
 * [128..191] → RTP/RTCP". RFC 5761 §4: with RTP/RTCP multiplexed, a second byte (M bit + PT)
 * in 192..223 (RTCP packet types 192-223, i.e. RTP PT 64-95 with M set) is RTCP.
 * Packets shorter than the kind's fixed header are 'unknown'.
 */
export function classify(buf: Uint8Array): PacketKind {
  if (buf.length === 0) return 'unknown';
  const b0 = buf[0]!;
  if (b0 <= 3) return buf.length >= STUN_MIN ? 'stun' : 'unknown';
  if (b0 >= 20 && b0 <= 63) return buf.length >= DTLS_MIN ? 'dtls' : 'unknown';
  if (b0 >= 128 && b0 <= 191) {
    if (buf.length < RTCP_MIN) return 'unknown';
    const b1 = buf[1]!;
    if (b1 >= 192 && b1 <= 223) return 'rtcp';
    return buf.length >= RTP_MIN ? 'rtp' : 'unknown';
  }
  return 'unknown';
}
