// The per-packet path between legs: payload bytes pass unchanged. The only in-place edits are the
// payload type (when an answerer renumbered a codec) and, for echo on a plain RTP leg, the SSRC
// (WebRTC legs restamp SSRC/SEQ/timestamp themselves, legs/rebase.ts).
import { OutputStream } from './dtmf/stream.js';
import type { MediaLeg } from './legs/leg.js';
import { invert, ptTable } from './sdp/codecs.js';
import { flows } from './sdp/direction.js';
import type { Direction } from './sdp/model.js';

/** Rewrite the 7-bit PT through a 128-entry table, keeping the marker bit (RFC 3550 §5.1). */
function mapPayloadType(packet: Buffer, table: Uint8Array): void {
  const b1 = packet[1]!;
  packet[1] = (b1 & 0x80) | table[b1 & 0x7f]!;
}

/** A look at RTP from a leg before it is relayed: true = taken (not relayed), e.g. an RFC 4733 event
 *  converted to SIP INFO (dtmf/receiver.ts). */
export type RtpTap = (packet: Buffer) => boolean;

/** Two legs wired back to back. PT tables may be set once the answer is known. Each direction is one
 *  OutputStream (dtmf/stream.ts), so RFC 4733 events can be injected toward either leg. */
export class Bridge {
  /** Applied to RTP from a going to b, and from b going to a; undefined = identity. */
  aToB: Uint8Array | undefined;
  bToA: Uint8Array | undefined;
  /** RTP may go from a to b / from b to a (the negotiated directions, setDirections). */
  private forwardAToB = true;
  private forwardBToA = true;
  /** The streams toward a and toward b. */
  private readonly toA: OutputStream;
  private readonly toB: OutputStream;
  private tapA: RtpTap | undefined;
  private tapB: RtpTap | undefined;
  /** media.rtcp 'relay': RTCP from one leg goes to the other; false ('generate'): the gateway sends its own
   *  reports on each leg (quality-reports.ts) and the peers' RTCP stops here. */
  relayRtcp = true;

  constructor(
    private readonly a: MediaLeg,
    private readonly b: MediaLeg,
  ) {
    this.toA = new OutputStream((packet) => a.sendRtp(packet));
    this.toB = new OutputStream((packet) => b.sendRtp(packet));
    a.onRtp = (packet) => {
      if (!this.forwardAToB) return void a.counters.packetsHeld++;
      if (this.tapA?.(packet)) return;
      if (this.aToB) mapPayloadType(packet, this.aToB);
      this.toB.relay(packet);
    };
    b.onRtp = (packet) => {
      if (!this.forwardBToA) return void b.counters.packetsHeld++;
      if (this.tapB?.(packet)) return;
      if (this.bToA) mapPayloadType(packet, this.bToA);
      this.toA.relay(packet);
    };
    a.onRtcp = (packet) => {
      if (this.relayRtcp) b.sendRtcp(packet);
    };
    b.onRtcp = (packet) => {
      if (this.relayRtcp) a.sendRtcp(packet);
    };
  }

  /** The stream the relay sends toward `leg` (undefined: not a leg of this bridge). */
  output(leg: MediaLeg): OutputStream | undefined {
    return leg === this.a ? this.toA : leg === this.b ? this.toB : undefined;
  }

  /** Looks at RTP from `leg` before it is relayed (undefined removes the tap). */
  tap(leg: MediaLeg, tap: RtpTap | undefined): void {
    if (leg === this.a) this.tapA = tap;
    else if (leg === this.b) this.tapB = tap;
  }

  /** Install the answer's renumbering: `answerToOffer` maps the answerer's PT to the offerer's; the
   *  opposite direction uses the inverse. Either leg may be the offerer (re-offers swap roles). */
  setPayloadMap(offerer: MediaLeg, answerToOffer: ReadonlyMap<number, number>): void {
    const toOfferer = ptTable(answerToOffer);
    const toAnswerer = ptTable(invert(answerToOffer));
    if (offerer === this.a) {
      this.bToA = toOfferer;
      this.aToB = toAnswerer;
    } else {
      this.aToB = toOfferer;
      this.bToA = toAnswerer;
    }
  }

  /** Install the directions each side's SDP gave (effective ones: c=0.0.0.0 counted, see
   *  sdp/direction.ts). RTP is forwarded only where the sender sends and the receiver receives; RTCP
   *  always (RFC 3264 §5.1: RTCP is sent whatever the direction). */
  setDirections(leg: MediaLeg, legDirection: Direction, otherDirection: Direction): void {
    const [aDir, bDir] = leg === this.a ? [legDirection, otherDirection] : [otherDirection, legDirection];
    this.forwardAToB = flows(aDir, bDir);
    this.forwardBToA = flows(bDir, aDir);
  }
}

/** Echo: loop the offerer's RTP back to it under another SSRC (a browser may drop packets that carry
 *  its own SSRC, RFC 3550 §8.2 collision handling). A plain RTP leg gets `ssrc` written here; a
 *  WebRTC leg (no `ssrc`) restamps what it sends itself, rebasing SEQ/timestamp when the browser's
 *  own SSRC changes (a new PeerConnection re-offering to the echo). RTCP is not looped: its reports
 *  describe the peer's own streams and would confuse it. */
export function loopBack(leg: MediaLeg, ssrc?: number): void {
  if (ssrc === undefined) {
    leg.onRtp = (packet) => leg.sendRtp(packet);
    return;
  }
  const s0 = ssrc >>> 24;
  const s1 = (ssrc >>> 16) & 0xff;
  const s2 = (ssrc >>> 8) & 0xff;
  const s3 = ssrc & 0xff;
  leg.onRtp = (packet) => {
    packet[8] = s0;
    packet[9] = s1;
    packet[10] = s2;
    packet[11] = s3;
    leg.sendRtp(packet);
  };
}
