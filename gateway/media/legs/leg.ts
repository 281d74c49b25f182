// What the relay sees of one side of a call: plain RTP/RTCP in and out, whatever the wire profile.
import type { RtcpMonitor } from '../rtcp/monitor.js';
import type { MediaProfile } from '../types.js';

export interface LegCounters {
  packetsIn: number;
  packetsOut: number;
  bytesIn: number;
  bytesOut: number;
  /** Packets dropped because of where they came from (strict source on an RTP leg; not the ICE-selected
   *  address on a WebRTC leg). Not in packetsIn. */
  packetsRejected: number;
  /** Of packetsIn, how many were RTCP (liveness: on hold only RTCP counts). */
  rtcpIn: number;
  /** RTP taken in from this leg's peer that the relay did not forward because the negotiated
   *  direction forbids it (hold: RFC 3264 §6.1). Counted by the relay, in packetsIn. */
  packetsHeld: number;
}

export function newCounters(): LegCounters {
  return { packetsIn: 0, packetsOut: 0, bytesIn: 0, bytesOut: 0, packetsRejected: 0, rtcpIn: 0, packetsHeld: 0 };
}

/** Receives a plain RTP or RTCP packet from the leg's peer (already SRTP-unprotected). The buffer
 *  may be modified in place and is not retained by the leg afterwards. */
export type PacketSink = (packet: Buffer) => void;

export interface MediaLeg {
  readonly profile: MediaProfile;
  /** The port advertised in SDP (RTP; RTCP on port+1 for 'rtp'). */
  readonly port: number;
  readonly counters: LegCounters;
  /** Quality figures from the leg's RTP and RTCP, and the RTCP the gateway sends itself (rtcp/monitor.ts);
   *  the legs of the embedded engine always have one. */
  readonly rtcp?: RtcpMonitor;
  onRtp: PacketSink;
  onRtcp: PacketSink;
  /** Send plain RTP / RTCP to the peer (protected first on a webrtc leg). Dropped until the leg
   *  knows where to send (and, for webrtc, until DTLS-SRTP is up). */
  sendRtp(packet: Buffer): void;
  sendRtcp(packet: Buffer): void;
  close(): Promise<void>;
}

export const dropPacket: PacketSink = () => {};

/** A remote transport address; `port` 0 means unknown. */
export interface Endpoint {
  address: string;
  port: number;
}

export function sameEndpoint(a: Endpoint | undefined, address: string, port: number): boolean {
  return a !== undefined && a.port === port && a.address === address;
}

/** The clock the legs time packets with (ms, monotonic). */
export const mediaClock = (): number => performance.now();
