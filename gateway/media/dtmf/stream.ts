// The RTP stream the relay sends toward one leg, seen as one stream so that packets can be injected into it
// (RFC 4733 events converted from SIP INFO) without breaking it: an injected packet takes the stream's
// current SSRC and the next sequence number, and every relayed packet after it is shifted by one more, so
// the receiver sees one gap-free sequence (RFC 3550 §5.1: "The sequence number increments by one for each
// RTP data packet sent"). The media clock of the stream (the timestamp "now") is the last relayed packet's
// timestamp plus the wall time since, in the stream's clock rate. Until anything was relayed the stream is
// our own: a random SSRC, sequence number and timestamp (RFC 3550 §5.1: "SHOULD be random").
// A browser leg restamps SSRC/SEQ/timestamp again on its way out (legs/rebase.ts) and then protects it
// (SRTP): injected packets enter that path like relayed ones, so the browser sees one stream too.
import { randomInt } from 'node:crypto';

function u32(buf: Uint8Array, at: number): number {
  return ((buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!) >>> 0;
}

export type Clock = () => number;

export class OutputStream {
  /** The SSRC relayed packets carry; -1 before the first (or while the stream is our own). */
  private source = -1;
  private ssrc = -1;
  /** Added to the SEQ of relayed packets of the current source: one per packet injected since it began. */
  private seqDelta = 0;
  /** Highest SEQ sent (RFC 1982 order) and the media clock at the last relayed packet. */
  private topSeq = -1;
  private topTs = 0;
  private topAt = 0;
  /** Packets injected so far (observable). */
  injected = 0;

  constructor(
    private readonly send: (packet: Buffer) => void,
    private readonly now: Clock = () => performance.now(),
  ) {}

  /** A relayed RTP packet (fixed header checked by the leg): SEQ shifted past what was injected. */
  relay(packet: Buffer): void {
    const source = u32(packet, 8);
    if (source !== this.source) {
      // RFC 3550 §8.2: a new SSRC is a new stream with its own SEQ space; nothing injected into it yet
      this.source = this.ssrc = source;
      this.seqDelta = 0;
      this.topSeq = -1;
    }
    let seq = (packet[2]! << 8) | packet[3]!;
    if (this.seqDelta !== 0) {
      seq = (seq + this.seqDelta) & 0xffff;
      packet[2] = seq >>> 8;
      packet[3] = seq & 0xff;
    }
    const ahead = this.topSeq === -1 ? 1 : (seq - this.topSeq) & 0xffff;
    if (ahead !== 0 && ahead < 0x8000) {
      this.topSeq = seq;
      this.topTs = u32(packet, 4);
      this.topAt = this.now();
    }
    this.send(packet);
  }

  /** The stream's timestamp now, in units of `rate` Hz (the timestamp an event starting now carries). */
  clock(rate: number): number {
    this.ensureOwn();
    return (this.topTs + Math.round(((this.now() - this.topAt) * rate) / 1000)) >>> 0;
  }

  /** The SSRC packets injected now carry. */
  get currentSsrc(): number {
    this.ensureOwn();
    return this.ssrc;
  }

  /** Sends a packet built by `build` with the stream's SSRC and its next SEQ. */
  inject(build: (ssrc: number, seq: number) => Buffer): void {
    this.ensureOwn();
    const seq = (this.topSeq + 1) & 0xffff;
    this.topSeq = seq;
    if (this.source !== -1) this.seqDelta = (this.seqDelta + 1) & 0xffff;
    this.injected++;
    this.send(build(this.ssrc, seq));
  }

  /** Nothing relayed yet: the stream starts as our own. */
  private ensureOwn(): void {
    if (this.ssrc !== -1) return;
    this.ssrc = randomInt(1, 2 ** 32 - 1);
    this.topSeq = randomInt(0, 0x8000);
    this.topTs = randomInt(0, 2 ** 31);
    this.topAt = this.now();
  }
}
