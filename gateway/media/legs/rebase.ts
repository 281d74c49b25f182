// Outgoing RTP toward a browser is sent under one SSRC, the one our SDP announced (a=ssrc, RFC 5576):
// a WebRTC receiver routes packets by signalled SSRC. The source behind it may change mid-call
// (re-INVITE, transfer, a new browser PeerConnection, a media server switching streams), and a new
// source starts at an arbitrary SEQ and timestamp. Restamping only the SSRC would then show the
// browser a jump in SEQ, and RFC 3711 §3.3.1 index estimation at the receiver takes a jump of more
// than 2^15 for a roll-over or an old packet: the browser would drop the new source as replays or
// decrypt it with the wrong ROC. So whenever the source changes, SEQ and timestamp are rebased to
// continue from the last ones sent: per source, one (seqDelta, tsDelta) pair fixed at the switch.
//
// Sources are expected one after another (RFC 3550 §8.2: a new SSRC replaces the old one). Should two
// interleave, each switch rebases again, which keeps SEQ continuous (what SRTP needs) at the cost of
// the second stream's timing. The per-packet cost is a few integer operations; nothing is allocated.

/** Timestamp step assumed between the last packet of one source and the first of the next when the
 *  last source gave no usable step of its own: 20 ms at 8 kHz (RFC 3551 §4.5 G.711 default ptime). */
const DEFAULT_TS_STEP = 160;
/** A step larger than this (1.3 s at 48 kHz) is not a frame interval but a gap or a reorder. */
const MAX_TS_STEP = 0xffff;

function u32(buf: Uint8Array, at: number): number {
  return ((buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!) >>> 0;
}

function put32(buf: Uint8Array, at: number, value: number): void {
  buf[at] = value >>> 24;
  buf[at + 1] = (value >>> 16) & 0xff;
  buf[at + 2] = (value >>> 8) & 0xff;
  buf[at + 3] = value & 0xff;
}

export class SourceRebaser {
  /** The incoming SSRC the current deltas belong to; -1 before the first packet. */
  private source = -1;
  private seqDelta = 0;
  private tsDelta = 0;
  /** Highest SEQ sent (RFC 1982 serial order) and the timestamp it carried; -1 before any. */
  private topSeq = -1;
  private topTs = 0;
  /** Timestamp increment between the last two in-order packets sent. */
  private tsStep = DEFAULT_TS_STEP;
  /** Rebased sources so far (observable for tests and logs). */
  switches = 0;

  constructor(private readonly ssrc: number) {}

  /** Restamp one RTP packet in place (fixed header at least 12 bytes, checked by the caller):
   *  our SSRC, and SEQ/timestamp shifted by the current source's deltas. */
  rtp(packet: Buffer): void {
    const source = u32(packet, 8);
    if (source !== this.source) this.rebase(packet, source);
    const seq = (((packet[2]! << 8) | packet[3]!) + this.seqDelta) & 0xffff;
    const ts = (u32(packet, 4) + this.tsDelta) >>> 0;
    packet[2] = seq >>> 8;
    packet[3] = seq & 0xff;
    put32(packet, 4, ts);
    put32(packet, 8, this.ssrc);
    this.advance(seq, ts);
  }

  /** Restamp an RTCP compound packet in place (at least 8 bytes, checked by the caller): RFC 3550
   *  §6.4.1 sender SSRC of the first SR/RR becomes ours; an SR from the current source also gets its
   *  RTP timestamp (bytes 16..19) shifted, so the browser's NTP ↔ RTP mapping stays right. */
  rtcp(packet: Buffer): void {
    if (packet[1] === 200 && packet.length >= 20 && u32(packet, 4) === this.source) {
      put32(packet, 16, (u32(packet, 16) + this.tsDelta) >>> 0);
    }
    put32(packet, 4, this.ssrc);
  }

  /** A new source: continue from the highest SEQ sent, one frame step after its timestamp. The first
   *  source passes through unshifted. RFC 3551 §4.1: the marker bit flags the first packet after a
   *  gap ("the first packet of a talkspurt") so the receiver's jitter buffer re-syncs on it. */
  private rebase(packet: Buffer, source: number): void {
    if (this.topSeq !== -1) {
      const seq = (packet[2]! << 8) | packet[3]!;
      this.seqDelta = (this.topSeq + 1 - seq) & 0xffff;
      this.tsDelta = (this.topTs + this.tsStep - u32(packet, 4)) >>> 0;
      packet[1] = packet[1]! | 0x80;
      this.switches++;
    }
    this.source = source;
  }

  private advance(seq: number, ts: number): void {
    if (this.topSeq === -1) {
      this.topSeq = seq;
      this.topTs = ts;
      return;
    }
    const ahead = (seq - this.topSeq) & 0xffff;
    if (ahead === 0 || ahead >= 0x8000) return; // a duplicate or a late packet: the top stays
    if (ahead === 1) {
      const step = (ts - this.topTs) >>> 0;
      if (step > 0 && step <= MAX_TS_STEP) this.tsStep = step;
    }
    this.topSeq = seq;
    this.topTs = ts;
  }
}
