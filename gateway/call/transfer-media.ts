// Transfer in the media plane, call-layer side: what a transfer target is offered (derived from the
// remaining party's current SDP, so its answer fits the remaining party's leg as it is), and the splice
// that wires the two kept legs back to back (media/splice.ts) — no re-INVITE of a kept party, whose port,
// ICE credentials and DTLS association stay. The session legs of the joined call are rebuilt here.
import sdpTransform from 'sdp-transform';
import { parseAudioSdp } from '../media/sdp/model.js';
import { canSplice, MediaError, type MediaEngine } from '../media/types.js';
import type { CallSide } from './call.js';
import type { MediaSession } from './media-session.js';
import type { CallSession, SessionLeg } from './session-legs.js';

/** The remaining party's SDP as the offer toward a transfer target: the same codecs and transport, and
 *  sendrecv (a party the transferor held is talking to the target once joined). */
export function offerSource(sdp: string): string {
  const parsed = sdpTransform.parse(sdp);
  const audio = parsed.media.find((m) => m.type === 'audio' && m.port !== 0);
  if (!audio) throw new MediaError('bad-sdp', 'no audio in the remaining party\'s SDP');
  audio.direction = 'sendrecv';
  delete parsed.direction;
  // RFC 2543 hold (c=0.0.0.0) is not an address to offer from
  return sdpTransform.write(parsed);
}

/** The codec names both the remaining party's SDP and ours to it list (what it negotiated), narrowed to
 *  `allowed` (e.g. G.711 toward a trunk), in the party's order. */
export function offerCodecs(leg: Pick<SessionLeg, 'remoteSdp' | 'localSdp'>, allowed?: readonly string[]): string[] | undefined {
  try {
    const theirs = parseAudioSdp(leg.remoteSdp).codecs.map((c) => c.name);
    const ours = new Set(parseAudioSdp(leg.localSdp).codecs.map((c) => c.name.toLowerCase()));
    const upper = allowed?.map((a) => a.toLowerCase());
    const names = theirs.filter((n) => ours.has(n.toLowerCase()) && (!upper || upper.includes(n.toLowerCase())));
    return names.length > 0 ? [...new Set(names)] : allowed?.slice();
  } catch {
    return allowed?.slice();
  }
}

/** One kept side of a call about to be joined: its media session and session leg. */
export interface KeptLeg {
  media: MediaSession;
  leg: SessionLeg;
}

/** Wires `a`'s leg and `b`'s leg back to back in the engine (under `b`'s media key). MediaError when the
 *  engine cannot (no splice, no common codec, a call no longer answered). */
export async function spliceLegs(engine: MediaEngine, a: KeptLeg, b: KeptLeg): Promise<void> {
  if (!canSplice(engine)) throw new MediaError('unknown-call', 'this media engine cannot join two calls (transfer needs media.engine: embedded)');
  await engine.splice({ a: { callId: a.media.key, tag: a.leg.tag }, b: { callId: b.media.key, tag: b.leg.tag } });
}

/** The session of a call whose `gone` side was replaced by `incoming`, `stays` staying (under `media`). */
export function joinedSession(media: MediaSession, gone: CallSide, incoming: SessionLeg, stays: SessionLeg): CallSession {
  return gone === 'caller' ? { media, caller: incoming, callee: stays } : { media, caller: stays, callee: incoming };
}
