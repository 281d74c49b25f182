// Offer/answer on an established call (RFC 3264 §8, RFC 6337): re-offers from either side, committed
// by the answer or rolled back, and the offers the engine answers alone (answerLocally). The legs,
// ports, ICE credentials and DTLS association stay; directions, codecs and addresses change.
import { localTransport, moveCall, type MediaCall, type Side } from './call.js';
import type { DtlsCertificate } from './dtls/certificate.js';
import type { OpenLeg } from './legs/factory.js';
import { matchAnswerCodecs } from './sdp/codecs.js';
import { dtlsRoleFor, produceAnswer, produceOffer, reverse } from './sdp/convert.js';
import { effectiveDirection, intersect } from './sdp/direction.js';
import { otherSideChange } from './sdp/modification.js';
import type { AudioDescription, SetupRole } from './sdp/model.js';
import { MediaError, type SdpResult } from './types.js';

/** Where the engine's SDP says it is reached. */
export interface LocalEnd {
  address: string;
  certificate: DtlsCertificate;
}

/** Point a leg at the peer described by its SDP (offer or answer); `peerAddress` is where its SIP
 *  came from. For a browser's offer, `ourSetup` is the a=setup we answer with: our DTLS role follows
 *  it (RFC 5763 §5: "active" = we are the DTLS client). */
export function applyRemote(open: OpenLeg, desc: AudioDescription, peerIsOfferer: boolean, peerAddress: string | undefined, ourSetup?: SetupRole): void {
  if (open.profile === 'rtp') {
    const remote = desc.rtcpPort !== undefined ? { rtcpPort: desc.rtcpPort } : {};
    open.leg.setRemote({ address: desc.address, port: desc.port, ...remote, peerAddress });
    return;
  }
  const role = peerIsOfferer && ourSetup !== undefined ? (ourSetup === 'active' ? 'client' : 'server') : dtlsRoleFor(desc.setup, peerIsOfferer);
  open.leg.setRemote({ iceUfrag: desc.iceUfrag!, icePwd: desc.icePwd!, fingerprint: desc.fingerprint!.hash, role, fromOffer: peerIsOfferer });
}

/** Our a=setup answering a peer's offer. An offer that names a role (active/passive) leaves us the
 *  other; for actpass, the role a running DTLS association already has (RFC 8842 §5.5: a re-offer
 *  does not change it), else passive (we are the DTLS server). */
export function answerSetup(desc: AudioDescription, open?: OpenLeg): 'active' | 'passive' {
  const forced = desc.setup === 'active' || desc.setup === 'passive';
  const running = open?.profile === 'webrtc' ? open.leg.dtlsRole : undefined;
  const role = (forced ? undefined : running) ?? dtlsRoleFor(desc.setup, true);
  return role === 'server' ? 'passive' : 'active';
}

/** The side whose tag is `tag` and the other one; unknown-call for a tag the call does not have. */
export function sidesOf(call: MediaCall, tag: string): [Side, Side] {
  if (!call.answerer) throw new MediaError('unknown-call', `call ${call.id} has no second side`);
  if (call.offerer.tag === tag) return [call.offerer, call.answerer];
  if (call.answerer.tag === tag) return [call.answerer, call.offerer];
  throw new MediaError('unknown-call', `call ${call.id} has no side with tag ${tag}`);
}

/** RFC 3264 §8: a new offer from either side of an established call. The produced offer goes to
 *  the other side; nothing changes on the legs until its answer (commitReoffer). */
export function reoffer(call: MediaCall, fromTag: string, desc: AudioDescription, local: LocalEnd, codecs: string[] | undefined, peerAddress: string | undefined): SdpResult {
  const [offerer, answerer] = sidesOf(call, fromTag);
  if (desc.profile !== offerer.open.profile) {
    throw new MediaError('bad-sdp', `re-offer is ${desc.profile} but this side of the call is ${offerer.open.profile}`);
  }
  const transport = localTransport(answerer, local.address, local.certificate);
  // RFC 8842 §5.5 / RFC 5763 §5: an offer says actpass; the answerer keeps the running association's role
  if (transport.webrtc) transport.webrtc.setup = 'actpass';
  const produced = produceOffer(desc, transport, codecs);
  call.pending = { offerer, answerer, offer: desc, sentCodecs: produced.codecs };
  if (peerAddress !== undefined) call.pending.peerAddress = peerAddress;
  moveCall(call, 'offered');
  return { sdp: produced.sdp };
}

/** The answer to a pending re-offer arrived: the offer takes effect (the offerer's leg is pointed
 *  at its new SDP: a new address re-opens the latch, new ICE credentials restart ICE, a new
 *  fingerprint or role starts a new DTLS association). */
export function commitReoffer(call: MediaCall): void {
  const p = call.pending;
  if (!p) return;
  call.pending = undefined;
  p.answerer.setup = 'actpass';
  p.offerer.setup = answerSetup(p.offer, p.offerer.open);
  applyRemote(p.offerer.open, p.offer, true, p.peerAddress, p.offerer.setup);
  Object.assign(call, { offerer: p.offerer, answerer: p.answerer, offer: p.offer, sentCodecs: p.sentCodecs });
}

/** A re-offer the other side rejected (or that the call layer withdrew): the session stays as it
 *  was (RFC 3261 §14.1: "the session ... remains as it was"). No-op without a pending re-offer. */
export function rollbackReoffer(call: MediaCall, fromTag: string): boolean {
  if (!call.pending || call.pending.offerer.tag !== fromTag) return false;
  call.pending = undefined;
  moveCall(call, 'answered');
  return true;
}

/** After an answer: what each side's SDP says, for the relay and for later local answers. */
export function recordAnswered(call: MediaCall, answer: AudioDescription, answerSdp: string, codecs: AudioDescription['codecs']): void {
  const answerer = call.answerer!;
  call.offerer.remote = call.offer;
  call.offerer.codecs = codecs;
  if (call.offer.origin !== undefined) call.offerer.lastAnswer = { origin: call.offer.origin, sdp: answerSdp };
  answerer.remote = answer;
  answerer.codecs = answer.codecs;
  answerer.lastAnswer = undefined;
  call.bridge?.setDirections(call.offerer.open.leg, effectiveDirection(call.offer), effectiveDirection(answer));
}

/** An offer from one side that the engine answers alone (see sdp/modification.ts): a session
 *  refresh, a new RTP address, an ICE restart, a DTLS re-key. MediaError('bad-sdp') when it changes
 *  what the other side must know, or while a re-offer is pending. */
export function answerLocally(call: MediaCall, fromTag: string, desc: AudioDescription, local: LocalEnd, peerAddress: string | undefined): SdpResult {
  if (call.state !== 'answered' || call.pending) {
    throw new MediaError('bad-sdp', `call ${call.id}: no established session to answer locally (an offer is outstanding)`);
  }
  const [side, other] = sidesOf(call, fromTag);
  if (desc.profile !== side.open.profile) throw new MediaError('bad-sdp', `offer is ${desc.profile} but this side of the call is ${side.open.profile}`);
  const change = otherSideChange(side.remote!, desc);
  if (change) throw new MediaError('bad-sdp', `call ${call.id}: this offer changes the ${change}; the other side must answer it`);
  // RFC 3264 §8: an unchanged SDP (same o= version) gets the answer it got before
  if (side.lastAnswer && desc.origin === side.lastAnswer.origin) return { sdp: side.lastAnswer.sdp };
  side.setup = answerSetup(desc, side.open);
  applyRemote(side.open, desc, true, peerAddress, side.setup);
  const direction = intersect(reverse(effectiveDirection(desc)), effectiveDirection(other.remote!));
  const as = { ...other.remote!, codecs: matchAnswerCodecs(desc.codecs, side.codecs!).codecs, direction };
  const produced = produceAnswer(desc, desc.codecs, as, localTransport(side, local.address, local.certificate));
  side.remote = desc;
  side.codecs = produced.match.codecs;
  if (desc.origin !== undefined) side.lastAnswer = { origin: desc.origin, sdp: produced.sdp };
  if (side === call.offerer) call.offer = desc;
  moveCall(call, 'answered');
  return { sdp: produced.sdp };
}
