// Answers for a late offer toward a plain-RTP peer (RFC 3261 §13.2.1: our INVITE had no SDP, the peer's
// 2xx offers and our ACK answers). The engine already produced the offer we would have sent that side
// (its ports, our address); the answer is that SDP narrowed to what the peer offered.
import * as sdpTransform from 'sdp-transform';
import { MediaError } from '../types.js';
import { reverse } from './convert.js';
import { parseAudioSdp, type Codec } from './model.js';

const sameEncoding = (a: Codec, b: Codec): boolean => a.name.toLowerCase() === b.name.toLowerCase() && a.rate === b.rate;

/** Our answer to the peer's `offer`, built from `ours` (the engine's unsent offer for that side). RFC 3264
 *  §6: "The answer MUST contain exactly the same number of "m=" lines as the offer"; §6.1: the answerer
 *  lists formats of the offer it will use, with the offer's payload type numbers, and answers sendonly
 *  with recvonly (and vice versa). Other m-lines are refused with port 0. No common audio codec →
 *  MediaError('no-common-codec'). */
export function answerFromOwnOffer(ours: string, offer: string): string {
  const mine = parseAudioSdp(ours);
  const theirs = parseAudioSdp(offer);
  const chosen = theirs.codecs.filter((c) => mine.codecs.some((m) => sameEncoding(m, c)));
  if (!chosen.some((c) => !['telephone-event', 'cn'].includes(c.name.toLowerCase()))) {
    throw new MediaError('no-common-codec', `late offer has ${theirs.codecs.map((c) => c.name).join(', ') || 'no codec'}; we offer ${mine.codecs.map((c) => c.name).join(', ')}`);
  }
  const session = sdpTransform.parse(ours);
  const audio = session.media[0]!;
  audio.payloads = chosen.map((c) => c.pt).join(' ');
  audio.rtp = chosen.map((c) => ({ payload: c.pt, codec: c.name, rate: c.rate, ...(c.channels ? { encoding: c.channels } : {}) }));
  audio.fmtp = chosen.filter((c) => c.fmtp !== undefined).map((c) => ({ payload: c.pt, config: c.fmtp! }));
  audio.direction = reverse(theirs.direction);
  const refused = sdpTransform.parse(offer).media.map((m) => ({ type: m.type, port: 0, protocol: m.protocol, payloads: m.payloads }));
  session.media = refused.map((m, i) => (i === theirs.index ? audio : (m as typeof audio)));
  return sdpTransform.write(session);
}

/** A valid answer refusing every stream of `offer` (RFC 3264 §6: "An offered stream MAY be rejected in
 *  the answer … by setting the port in the m line to zero"), for the ACK that must precede a BYE when a
 *  late-offer call ends before its answer (RFC 3261 §13.2.2.4). */
export function refusingAnswer(offer: string): string {
  const session = sdpTransform.parse(offer);
  session.media = session.media.map((m) => ({ type: m.type, port: 0, protocol: m.protocol, payloads: m.payloads }) as (typeof session.media)[number]);
  return sdpTransform.write(session);
}
