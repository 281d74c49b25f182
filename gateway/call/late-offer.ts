// Late offer (RFC 3261 §13.2.1: an INVITE without SDP; the offer comes in the 2xx, the answer in the ACK)
// across the B2BUA — B2BUA policy, used by the callee sides (dial.ts, ring.ts):
//  - from the caller ("pass-through"): the caller sent no offer, so the callee's INVITE carries none
//    either; the callee's 2xx offer is rewritten by the media engine for the caller's profile and sent in
//    our 2xx; the caller's ACK answer is rewritten for the callee and sent in the callee's ACK. Chosen over
//    the engine inventing an offer from a codec list because the media engine (embedded and rtpengine
//    alike) only rewrites SDP it was given — the callee's offer names the codecs and addresses it really
//    has, and no engine call is new (offer from the callee's tag, answer from the caller's);
//  - toward a trunk with `lateOffer: true`: our INVITE carries no SDP although the caller offered; the
//    engine's offer for the trunk (made as usual, never sent) is narrowed to the trunk's 2xx offer for our
//    ACK (media/sdp/late-offer.ts), and the trunk's offer is the engine's answer to it.
import type { MediaProfile, SdpResult } from '../media/types.js';
import { getTo } from '../sip/message/index.js';
import type { SipRequest, SipResponse } from '../sip/message/types.js';
import type { InviteClient } from '../sip/ua/invite-client.js';
import { TRUNK_CODECS, type Call } from './call.js';
import type { MediaSession } from './media-session.js';
import { answeredSession } from './session-legs.js';

/** What the caller's SDP must speak: a WebSocket caller is a browser (WebRTC), anyone else plain RTP. */
export function callerProfile(call: Call): MediaProfile {
  const transport = call.caller.tx.flow.transport;
  return transport === 'ws' || transport === 'wss' ? 'webrtc' : 'rtp';
}

export interface PassThrough {
  call: Call;
  media: MediaSession;
  client: InviteClient;
  /** The callee's 2xx: its body is the callee's offer. */
  res: SipResponse;
}

/** Pass-through late offer, step 1: the callee's 2xx offer → our 2xx to the caller with the engine's
 *  offer for the caller's profile; step 2 runs on the caller's ACK. False when the call ended instead. */
export async function offerCallerFromCallee(p: PassThrough): Promise<boolean> {
  const { call, media, client, res } = p;
  if (res.body.length === 0) {
    // §13.2.1: the 2xx to an INVITE without an offer MUST carry one.
    call.end({ status: 502, reason: 'Bad Gateway: no SDP offer from callee' });
    return false;
  }
  const profile = callerProfile(call);
  const calleeTag = getTo(res).params.tag ?? '';
  const sdp = res.body.toString('utf8');
  const codecs = profile === 'rtp' ? TRUNK_CODECS : undefined;
  const offer = await call.withMedia(() => media.offer({ fromTag: calleeTag, sdp, toProfile: profile, codecs, peerAddress: client.peerAddress }));
  if (!offer || call.ended) return false;
  call.stopRingTimer();
  call.to('answered');
  call.caller.accept(offer.sdp);
  call.whenCallerAcks((ack) => call.enqueue(() => answerCalleeFromCaller(p, calleeTag, offer.sdp, ack), 'late-offer answer failed'));
  return true;
}

/** Step 2: the caller's ACK answer → the callee's ACK with the engine's answer (§13.2.2.4). An ACK
 *  without an answer ends the call (the callee's ACK then refuses its offer before the BYE). */
async function answerCalleeFromCaller(p: PassThrough, calleeTag: string, offerSent: string, ack: SipRequest): Promise<void> {
  const { call, media, client, res } = p;
  if (call.ended) return;
  if (ack.body.length === 0) {
    call.log.info('the caller\'s ACK carried no answer to our offer');
    return call.end();
  }
  const sdp = ack.body.toString('utf8');
  const answer: SdpResult | undefined = await call.withMedia(() => media.answer({ fromTag: calleeTag, toTag: call.caller.remoteTag, sdp, peerAddress: call.callerAddress }));
  if (!answer || call.ended) return;
  client.sendAck(answer.sdp);
  // The callee offered and the caller answered: seen from each side, our last SDP to the callee is the
  // answer in its ACK, to the caller the offer in our 2xx.
  call.establish(answeredSession(call, { usage: client, media, res, answer: res.body.toString('utf8'), peerAddress: client.peerAddress, offerSent: answer.sdp, answerSent: offerSent }));
  call.log.info('late offer answered');
}
