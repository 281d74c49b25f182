// Media engine contract: the shape of rtpengine's ng control protocol (offer / answer / delete, keyed by
// call), so the embedded engine and an rtpengine-backed one are interchangeable.

import type { CallQuality } from './quality.js';

/** What the SDP produced for the other side must speak. */
export type MediaProfile =
  | 'webrtc' // UDP/TLS/RTP/SAVPF: ICE-lite candidates, DTLS-SRTP fingerprint, rtcp-mux
  | 'rtp'; // RTP/AVP: plain RTP with RTCP on port+1

export interface OfferRequest {
  /** Gateway-internal call key (one per B2BUA call, not necessarily a SIP Call-ID). */
  callId: string;
  /** Tag of the side that made this offer. */
  fromTag: string;
  /** The offer as received. */
  sdp: string;
  /** Profile of the SDP to produce (the other side's). */
  toProfile: MediaProfile;
  /** Encoding names allowed in the produced offer, in preference order, matched case-insensitively
   *  against the offer's rtpmap (e.g. ['PCMU', 'PCMA', 'telephone-event']). Payload type numbers are
   *  kept as the offerer wrote them so payloads pass unchanged. Default: all the offer has. */
  codecs?: string[];
  /** The IP the offerer's SIP came from. With media.strictSource a plain RTP leg takes its first
   *  packets only from this IP or the SDP's c= address (RTP Bleed protection). */
  peerAddress?: string;
  /** Placement (media.workers > 0): affinity groups of this call key, in order of precedence — keys that may
   *  be spliced together (a call's forks and transfer legs, a user's calls) name a common group so that they
   *  live in one media worker (workers/placement.ts). Ignored by single-thread engines. */
  groups?: string[];
}

export interface AnswerRequest {
  callId: string;
  /** Tag of the side that made the offer. */
  fromTag: string;
  /** Tag of the side that answered. */
  toTag: string;
  /** The answer as received from the other side. */
  sdp: string;
  /** The IP the answerer's SIP came from (see OfferRequest.peerAddress). */
  peerAddress?: string;
  /** Keep the offer's telephone-event in the answer to the offerer when the answerer has none: the gateway
   *  takes the offerer's RFC 4733 events itself (converted to SIP INFO, call/dtmf.ts). Embedded engine only. */
  keepTelephoneEvent?: boolean;
}

export interface EchoRequest {
  callId: string;
  fromTag: string;
  sdp: string;
  codecs?: string[];
  /** The IP the offerer's SIP came from (see OfferRequest.peerAddress). */
  peerAddress?: string;
  /** See OfferRequest.groups. */
  groups?: string[];
}

export interface SdpResult {
  sdp: string;
}

export interface MediaStats {
  /** Packets received from / sent to each side, keyed by tag; packetsRejected counts those dropped
   *  for their source (strict source, or not the ICE-selected address); packetsHeld the RTP taken in
   *  but not forwarded because the negotiated direction forbids it (hold); rtcpIn the RTCP among
   *  packetsIn. The last two: embedded engine only. */
  legs: Record<string, { packetsIn: number; packetsOut: number; bytesIn: number; bytesOut: number; packetsRejected: number; packetsHeld?: number; rtcpIn?: number }>;
}

/** overloaded: the embedded engine's thread is too busy to take a new call now (admission.ts). */
export type MediaErrorCode = 'no-common-codec' | 'bad-sdp' | 'no-ports' | 'unknown-call' | 'overloaded';

/** The call layer maps: no-common-codec / bad-sdp → 488, no-ports → 503, overloaded → 503 with
 *  Retry-After (media.admission.retryAfter), unknown-call → 481. */
export class MediaError extends Error {
  constructor(
    readonly code: MediaErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'MediaError';
  }
}

export interface MediaEngine {
  /** Rewrite an offer for the other side, allocating this call's ports. */
  offer(request: OfferRequest): Promise<SdpResult>;
  /** Rewrite the other side's answer for the offerer; media flows after this. */
  answer(request: AnswerRequest): Promise<SdpResult>;
  /** Answer an offer with the engine itself, looping the offerer's media back to it (echo test). */
  echo(request: EchoRequest): Promise<SdpResult>;
  /** Free the call's ports and state. Idempotent; unknown calls are ignored. */
  delete(callId: string): Promise<void>;
  stats(callId: string): MediaStats | undefined;
  /** Quality figures per leg (media/quality.ts): live while the call's media is up, then its final figures
   *  for a while after delete(). undefined: unknown call. Engines that cannot tell leave it out. */
  quality?(callId: string): Promise<CallQuality | undefined>;
  close(): Promise<void>;
}

/** An offer from one side of an established call that the engine answers alone (see
 *  needsOtherSide in sdp/modification.ts). */
export interface LocalAnswerRequest {
  callId: string;
  /** Tag of the side that made this offer. */
  fromTag: string;
  sdp: string;
  /** The IP the offerer's SIP came from (see OfferRequest.peerAddress). */
  peerAddress?: string;
}

export interface RollbackRequest {
  callId: string;
  /** Tag of the side whose re-offer was rejected. */
  fromTag: string;
}

/** no-rtp-rtcp: neither RTP nor RTCP from the leg's peer for the timeout; no-rtcp-on-hold: the
 *  session is on hold and the peer's RTCP stopped. */
export type InactiveReason = 'no-rtp-rtcp' | 'no-rtcp-on-hold';
export type InactiveListener = (callId: string, leg: string, reason: InactiveReason) => void;

/** Session modification (RFC 3264 §8) and liveness on top of the first offer/answer. For a new offer
 *  from either side of an established call (re-INVITE or UPDATE with SDP), with `previous` the last
 *  SDP that side sent:
 *   - needsOtherSide(previous, offer) false (refresh, new RTP address, ICE restart, DTLS re-key):
 *     answerLocally({callId, fromTag: its tag, sdp}) → the answer for it; the other leg hears nothing;
 *   - otherwise (hold/resume/direction, codecs, ptime): offer({callId, fromTag: its tag, sdp,
 *     toProfile: the other side's}) → the offer for the other leg; its answer goes through
 *     answer({callId, fromTag: offerer's tag, toTag: answerer's tag, sdp}) → the answer for the
 *     offerer, and only then does the change take effect; if the other leg rejects it (or glare),
 *     rollback({callId, fromTag}) and the session stays as it was.
 *  Not covered yet: a re-INVITE without SDP (our offer in the 200, its answer in the ACK) has no engine
 *  call of its own; the last SDP sent to that side can be offered again, but an ACK answer that
 *  changes something cannot be applied alone. */
export interface ModifiableMediaEngine extends MediaEngine {
  /** Answer a re-offer without the other side: an unchanged refresh (same o= → the same answer), a
   *  new RTP address, an ICE restart or DTLS re-key. MediaError('bad-sdp') when the offer changes
   *  what the other side must know (direction, codecs, ptime) or a re-offer is outstanding. */
  answerLocally(request: LocalAnswerRequest): Promise<SdpResult>;
  /** The other side rejected the re-offer of `fromTag`: the session stays as it was. No-op when
   *  none is outstanding. */
  rollback(request: RollbackRequest): Promise<void>;
  /** Subscribe to inactivity reports (each leg at most once per hold state); returns unsubscribe. */
  onInactive(listener: InactiveListener): () => void;
}

/** One side of an answered call: its key and the SIP tag of the side. */
export interface CallSideRef {
  callId: string;
  tag: string;
}

/** Transfer (call/transfer*.ts): side `a` of one answered call and side `b` of another are wired back to
 *  back and go on under `b.callId`; the two other sides' legs are freed and `a.callId` is forgotten. */
export interface SpliceRequest {
  a: CallSideRef;
  b: CallSideRef;
}

/** An engine that can join two calls' legs without a new offer to either kept peer (their ports, ICE and
 *  DTLS stay): what transfer needs. MediaError('no-common-codec') when the kept sides share no codec,
 *  'unknown-call' when either is not an answered call. The embedded engine implements it. */
export interface SpliceableMediaEngine extends ModifiableMediaEngine {
  splice(request: SpliceRequest): Promise<void>;
}

export function canSplice(engine: MediaEngine): engine is SpliceableMediaEngine {
  return typeof (engine as Partial<SpliceableMediaEngine>).splice === 'function';
}

export interface SocketCounts {
  udp: number;
  tcpListeners: number;
  tcpConnections: number;
}

/** One engine thread's load (the in-thread engine: worker 0; the sharded engine: one per worker): live
 *  calls, event-loop utilization (0-1) and delay p99 over the latest window, and whether it takes new calls
 *  (admission.ts: false while it refuses them with MediaError 'overloaded'); refused: new calls it refused
 *  since it started. */
export interface EngineLoad {
  worker: number;
  calls: number;
  utilization: number;
  delayP99Ms: number;
  admitting: boolean;
  refused?: number;
}
