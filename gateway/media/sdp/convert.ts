// Offer/answer conversion between the profiles (pure): webrtc → rtp and rtp → webrtc, both directions
// of offer and answer, from the engine's local transport parameters.
import type { MediaProfile } from '../types.js';
import { buildRtpSdp, buildWebrtcSdp, type CommonSdpParams, type Origin } from './build.js';
import { matchAnswerCodecs, selectOfferCodecs, type CodecMatch } from './codecs.js';
import { effectiveDirection } from './direction.js';
import type { AudioDescription, Codec, SetupRole } from './model.js';

export interface LocalWebrtcParams {
  iceUfrag: string;
  icePwd: string;
  fingerprint: string;
  setup: SetupRole;
  /** SSRC and CNAME of what we send (a=ssrc, RFC 5576). */
  ssrc: number;
  cname: string;
  /** The leg accepts ICE-TCP on its port: offer a passive TCP candidate too (RFC 6544). */
  iceTcp?: boolean;
}

/** Where and how the engine itself receives the media of one leg. */
export interface LocalTransport {
  profile: MediaProfile;
  address: string;
  port: number;
  origin: Origin;
  /** Required when profile is 'webrtc'. */
  webrtc?: LocalWebrtcParams;
}

function write(params: CommonSdpParams, local: LocalTransport, mid: string): string {
  if (local.profile === 'rtp') return buildRtpSdp(params);
  if (!local.webrtc) throw new Error('webrtc leg without ICE/DTLS parameters');
  return buildWebrtcSdp({ ...params, ...local.webrtc, mid });
}

export interface ProducedOffer {
  sdp: string;
  /** The codecs offered to the other side (with the original offerer's payload type numbers). */
  codecs: Codec[];
}

/** Rewrite `offer` for the other side: only allowed codecs, the offer's PT numbers, its direction
 *  mirrored, our address/port; a webrtc offer gets mid 0 and a=setup:actpass (RFC 5763 §5). */
export function produceOffer(offer: AudioDescription, local: LocalTransport, allowed?: readonly string[]): ProducedOffer {
  const codecs = selectOfferCodecs(offer.codecs, allowed);
  const params: CommonSdpParams = {
    kind: 'offer',
    origin: local.origin,
    address: local.address,
    port: local.port,
    codecs,
    // an RFC 2543 hold (c=0.0.0.0) goes on as the direction it means (RFC 3264 §8.4)
    direction: effectiveDirection(offer),
    ptime: offer.ptime ?? 20,
  };
  return { sdp: write(params, local, '0'), codecs };
}

export interface ProducedAnswer {
  sdp: string;
  match: CodecMatch;
}

/** Rewrite the other side's `answer` (to the offer whose codecs were `sentCodecs`) for the original
 *  offerer: the answered codecs with the offerer's PT numbers, the answer's direction, the offer's mid
 *  and its other m-lines rejected with port 0. */
export function produceAnswer(
  originalOffer: AudioDescription,
  sentCodecs: readonly Codec[],
  answer: AudioDescription,
  local: LocalTransport,
): ProducedAnswer {
  const match = matchAnswerCodecs(sentCodecs, answer.codecs);
  const sdp = answerWith(originalOffer, match.codecs, effectiveDirection(answer), local, answer.ptime);
  return { sdp, match };
}

/** The engine answering an offer itself (echo): the offer's allowed codecs, direction reversed. */
export function produceSelfAnswer(offer: AudioDescription, local: LocalTransport, allowed?: readonly string[]): string {
  const codecs = selectOfferCodecs(offer.codecs, allowed);
  return answerWith(offer, codecs, reverse(effectiveDirection(offer)), local, offer.ptime);
}

function answerWith(
  offer: AudioDescription,
  codecs: readonly Codec[],
  direction: AudioDescription['direction'],
  local: LocalTransport,
  ptime: number | undefined,
): string {
  const params: CommonSdpParams = {
    kind: 'answer',
    origin: local.origin,
    address: local.address,
    port: local.port,
    codecs,
    direction,
    ptime: ptime ?? offer.ptime ?? 20,
    others: offer.others,
    audioIndex: offer.index,
  };
  return write(params, local, offer.mid ?? '0');
}

/** RFC 3264 §6.1: sendonly is answered recvonly and vice versa. */
export function reverse(direction: AudioDescription['direction']): AudioDescription['direction'] {
  if (direction === 'sendonly') return 'recvonly';
  if (direction === 'recvonly') return 'sendonly';
  return direction;
}

/** RFC 5763 §5 / RFC 4145 §4: our DTLS role given the peer's a=setup. The offerer says actpass (or
 *  active/passive); the answerer picks. When the peer's answer has no a=setup, RFC 4145 §4.1 defaults
 *  it to active. */
export function dtlsRoleFor(peerSetup: SetupRole | undefined, peerIsOfferer: boolean): 'server' | 'client' {
  if (peerSetup === 'passive') return 'client';
  if (peerSetup === 'active') return 'server';
  if (peerSetup === 'actpass') return peerIsOfferer ? 'server' : 'client';
  return 'server';
}
