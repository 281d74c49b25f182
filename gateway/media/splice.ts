// Transfer in the media plane (RFC 3515 / RFC 3891 at the call layer): one leg of each of two answered
// calls wired back to back, the two other legs freed. The kept legs do not change — same port, same ICE
// credentials, same DTLS association — so neither kept peer needs a new offer: only the relay between
// them is new (payload types mapped between what each side negotiated, directions as each side said).
import { moveCall, type MediaCall, type Side } from './call.js';
import { dropPacket } from './legs/leg.js';
import { Bridge } from './relay.js';
import { matchAnswerCodecs } from './sdp/codecs.js';
import { effectiveDirection } from './sdp/direction.js';
import { sidesOf } from './session.js';
import { MediaError, type SpliceRequest } from './types.js';

/** The answered call under `callId` and its side `tag` (with the side that is dropped). */
function keptSide(calls: ReadonlyMap<string, MediaCall>, callId: string, tag: string): { call: MediaCall; kept: Side; dropped: Side } {
  const call = calls.get(callId);
  if (!call || call.state !== 'answered' || call.pending) throw new MediaError('unknown-call', `no established media call ${callId}`);
  const [kept, dropped] = sidesOf(call, tag);
  if (!kept.remote || !kept.codecs) throw new MediaError('unknown-call', `call ${callId}: side ${tag} has no session yet`);
  return { call, kept, dropped };
}

/** Wires `a` (kept, becomes the offerer) and `b` (kept, the answerer) into one call stored under
 *  `b.callId`; the call under `a.callId` is forgotten. Returns the legs to release (the two dropped
 *  ones). Throws before changing anything when the two kept sides have no audio codec in common. */
export function splice(calls: Map<string, MediaCall>, request: SpliceRequest): Side[] {
  if (request.a.callId === request.b.callId) throw new MediaError('bad-sdp', 'splice needs two different calls');
  const a = keptSide(calls, request.a.callId, request.a.tag);
  const b = keptSide(calls, request.b.callId, request.b.tag);
  // b's payload types → a's (each side keeps the numbers it negotiated; the relay maps them)
  const match = matchAnswerCodecs(a.kept.codecs!, b.kept.codecs!);
  a.call.bridge = undefined;
  b.call.bridge = undefined;
  // the dropped legs forward nothing more (their peers are being sent BYE) until they are released
  for (const side of [a.dropped, b.dropped]) side.open.leg.onRtp = side.open.leg.onRtcp = dropPacket;
  const bridge = new Bridge(a.kept.open.leg, b.kept.open.leg);
  bridge.setPayloadMap(a.kept.open.leg, match.answerToOffer);
  bridge.setDirections(a.kept.open.leg, effectiveDirection(a.kept.remote!), effectiveDirection(b.kept.remote!));
  calls.delete(request.a.callId);
  moveCall(a.call, 'deleted');
  const joined: MediaCall = {
    id: request.b.callId,
    state: 'answered',
    offerer: a.kept,
    offer: a.kept.remote!,
    answerer: b.kept,
    sentCodecs: b.kept.codecs!,
    bridge,
  };
  calls.set(request.b.callId, joined);
  return [a.dropped, b.dropped];
}
