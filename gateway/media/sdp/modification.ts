// Which changes of a session modification (RFC 3264 §8) the other leg of a B2BUA must hear about, pure.
// A new offer from one side of an established call either changes what the other side sends or
// receives — then the B2BUA carries it over (re-INVITE / UPDATE toward the other leg) — or it only
// changes how this side's own transport is reached, which the engine settles alone:
//  - direction (hold, resume, RFC 2543 c=0.0.0.0 hold): the other side must stop or start sending → other side;
//  - codecs: a negotiated codec dropped, or another one preferred (RFC 3264 §8.3.2 codec change
//    within the offered set) → other side; the same codecs offered again (a phone re-listing all it
//    can do after answering with fewer) → local;
//  - ptime: what the other side packetises → other side;
//  - a new RTP address or port (RFC 3264 §8.3.1), new ICE credentials (ICE restart, RFC 8839
//    §4.4.3.1.1), a new fingerprint or DTLS role (RFC 5763 §6.6 new association), new candidates,
//    SSRCs, an unchanged o= version (a session refresh, RFC 3264 §8: "the SDP is unchanged") → local:
//    the engine terminates the transport of each leg itself.
import { effectiveDirection } from './direction.js';
import { parseAudioSdp, type AudioDescription, type Codec } from './model.js';

export type OtherSideReason = 'profile' | 'direction' | 'codecs' | 'ptime';

function sameEncoding(a: Codec, b: Codec): boolean {
  return a.pt === b.pt && a.name.toLowerCase() === b.name.toLowerCase() && a.rate === b.rate && (a.channels ?? 1) === (b.channels ?? 1) && a.fmtp === b.fmtp;
}

const AUXILIARY = new Set(['telephone-event', 'cn']);

function firstAudio(codecs: readonly Codec[]): Codec | undefined {
  return codecs.find((c) => !AUXILIARY.has(c.name.toLowerCase()));
}

/** The codecs in use stay usable as they are: every codec of `previous` is offered again with the
 *  same payload type, and the preferred audio codec is still the first one. */
function codecsKept(previous: readonly Codec[], next: readonly Codec[]): boolean {
  if (!previous.every((p) => next.some((n) => sameEncoding(p, n)))) return false;
  const [a, b] = [firstAudio(previous), firstAudio(next)];
  return a !== undefined && b !== undefined && sameEncoding(a, b);
}

/** Compare parsed descriptions (see needsOtherSide). */
export function otherSideChange(previous: AudioDescription, next: AudioDescription): OtherSideReason | false {
  if (previous.profile !== next.profile) return 'profile';
  if (effectiveDirection(previous) !== effectiveDirection(next)) return 'direction';
  if (!codecsKept(previous.codecs, next.codecs)) return 'codecs';
  if ((previous.ptime ?? 20) !== (next.ptime ?? 20)) return 'ptime';
  return false;
}

/** `previousSdp`: the last SDP this side sent (its offer or its answer); `newSdp`: its new offer.
 *  false when the engine can answer the new offer alone (engine.answerLocally), else why the other
 *  leg must be asked (engine.offer toward it, then engine.answer). Throws MediaError('bad-sdp'). */
export function needsOtherSide(previousSdp: string, newSdp: string): OtherSideReason | false {
  return otherSideChange(parseAudioSdp(previousSdp), parseAudioSdp(newSdp));
}
