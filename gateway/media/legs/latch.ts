// Where one direction (RTP or RTCP) of a plain RTP leg takes packets from and sends them to. Pure.
//
// Symmetric RTP (RFC 4961 §4: "a device that sends RTP ... to a given address/port uses that same
// address/port to receive"): send to the SDP c=/m= address until the peer's first packet arrives, then
// to wherever its packets come from — so a peer behind NAT is reached at its public mapping.
//
// Strict source (RTP Bleed protection, like rtpengine's `strict-source` and Asterisk's `strictrtp`):
// before latching, only packets from an expected IP are taken — the SDP connection address (RFC 4566
// §5.7 c=) or the IP the peer's SIP came from; the first such packet latches its exact IP:port and from
// then on only that source is accepted. Only a new offer/answer (fromSdp) opens the latch again.
// Non-strict: the old behaviour, re-latching to any new source at any time.
import { isUnspecifiedAddress as isUnspecified } from '../sdp/direction.js';
import { sameEndpoint, type Endpoint } from './leg.js';

/** What became of one packet: passed from the latched source, latched a (new) source, or dropped. */
export type Admission = 'accepted' | 'latched' | 'rejected';

/** Compare IPs as the socket reports them: an IPv4-mapped IPv6 source (::ffff:a.b.c.d) is a.b.c.d. */
export function plainIp(address: string): string {
  const lower = address.toLowerCase();
  return lower.startsWith('::ffff:') && lower.includes('.') ? lower.slice(7) : lower;
}

export class SourceLatch {
  /** Where packets are sent: the SDP address until a packet latches, then that packet's source. */
  target: Endpoint | undefined;
  private latched: Endpoint | undefined;
  /** Strict mode: the IPs a first packet may come from (empty = accept nothing). */
  private expected: string[] = [];

  constructor(readonly strict: boolean) {}

  /** The latched source, if any. */
  get source(): Endpoint | undefined {
    return this.latched;
  }

  /** A new offer or answer from the peer: its SDP address, and the IP its SIP came from. */
  fromSdp(address: string, port: number, peerAddress?: string): void {
    if (isUnspecified(address) && (this.latched || this.expected.length > 0)) {
      // RFC 3264 §8.4: c=0.0.0.0 "means that neither RTP nor RTCP should be sent to the peer"; it
      // names no new source, so the peer's packets are still taken from where they came.
      if (peerAddress) this.expected = [...new Set([...this.expected, plainIp(peerAddress)])];
      this.target = undefined;
      return;
    }
    const sdpTarget = isUnspecified(address) || port === 0 ? undefined : { address, port };
    if (!this.strict) {
      if (!this.latched) this.target = sdpTarget; // the peer's own packets beat what its SDP said
      return;
    }
    this.expected = [...new Set([isUnspecified(address) ? undefined : address, peerAddress].filter((a): a is string => !!a).map(plainIp))];
    const keep = this.latched && this.expected.includes(plainIp(this.latched.address)) ? this.latched : undefined;
    // Re-latch is allowed now; until a packet does, keep sending where the peer's media came from
    // when that IP is still one the new SDP allows, else to the new SDP address.
    this.latched = undefined;
    this.target = keep ?? sdpTarget;
  }

  /** Decide on a packet from address:port; a latch moves `target`. */
  admit(address: string, port: number): Admission {
    if (this.latched && sameEndpoint(this.latched, address, port)) return 'accepted';
    if (this.strict && (this.latched || !this.expected.includes(plainIp(address)))) return 'rejected';
    const moved = !sameEndpoint(this.target, address, port);
    this.latched = { address, port };
    this.target = this.latched;
    return moved ? 'latched' : 'accepted';
  }
}
