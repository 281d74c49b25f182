// Media engine contract: the shape of rtpengine's ng control protocol (offer / answer / delete, keyed by
// call), so the embedded engine and an rtpengine-backed one are interchangeable.

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
}

export interface EchoRequest {
  callId: string;
  fromTag: string;
  sdp: string;
  codecs?: string[];
  /** The IP the offerer's SIP came from (see OfferRequest.peerAddress). */
  peerAddress?: string;
}

export interface SdpResult {
  sdp: string;
}

export interface MediaStats {
  /** Packets received from / sent to each side, keyed by tag; packetsRejected counts those dropped
   *  for their source (strict source, or not the ICE-selected address). */
  legs: Record<string, { packetsIn: number; packetsOut: number; bytesIn: number; bytesOut: number; packetsRejected: number }>;
}

export type MediaErrorCode = 'no-common-codec' | 'bad-sdp' | 'no-ports' | 'unknown-call';

/** The call layer maps: no-common-codec / bad-sdp → 488, no-ports → 503, unknown-call → 481. */
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
  close(): Promise<void>;
}
