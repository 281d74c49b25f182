// Pure translation of the media contract's requests into rtpengine ng commands (rtpengine 10.5
// ng_control_protocol: offer / answer / delete dictionaries).
import type { AnswerRequest, EchoRequest, MediaProfile, OfferRequest } from '../types.js';
import type { NgDict } from './ng-client.js';

/** The tag rtpengine knows the engine itself by when it answers an echo call. */
export const ECHO_TAG = 'rtpengine-echo';

/** Flags making the produced SDP speak `profile`. */
export function profileFlags(profile: MediaProfile): NgDict {
  if (profile === 'rtp') {
    return {
      // ng: "transport-protocol: … the SDP's transport protocol is rewritten (RTP/AVP: plain RTP)"
      'transport-protocol': 'RTP/AVP',
      ICE: 'remove',
      DTLS: 'off',
      SDES: ['off'],
      // ng rtcp-mux "demux": a muxed offerer is demultiplexed to RTCP on port+1 for the other side
      'rtcp-mux': ['demux'],
      // ng ICE-lite "backward": an ICE-speaking offerer (a browser) gets an ICE-lite answer (the
      // gateway is never the controlling agent); ignored for an offerer without ICE
      'ICE-lite': 'backward',
    };
  }
  return {
    'transport-protocol': 'UDP/TLS/RTP/SAVPF',
    ICE: 'force',
    // ng ICE-lite "forward": rtpengine is an ICE-lite agent towards the receiver of this offer
    'ICE-lite': 'forward',
    DTLS: 'passive',
    // RFC 8834 §4.2 / RFC 5761: WebRTC endpoints must support rtcp-mux; offer it
    'rtcp-mux': ['offer'],
    SDES: ['off'],
  };
}

/** ng codec flags keeping only `codecs` (by encoding name, offer order and payload types kept). */
export function codecFlags(codecs: string[] | undefined): NgDict {
  if (!codecs) return {};
  // ng codec "strip": "all" removes every codec, "except" lists the ones still kept
  return { codec: { strip: ['all'], except: [...codecs] } };
}

export function offerCommand(request: OfferRequest): NgDict {
  return {
    command: 'offer',
    'call-id': request.callId,
    'from-tag': request.fromTag,
    sdp: request.sdp,
    replace: ['origin', 'session-connection'],
    ...profileFlags(request.toProfile),
    ...codecFlags(request.codecs),
  };
}

export function answerCommand(request: AnswerRequest): NgDict {
  return {
    command: 'answer',
    'call-id': request.callId,
    'from-tag': request.fromTag,
    'to-tag': request.toTag,
    sdp: request.sdp,
    replace: ['origin', 'session-connection'],
  };
}

/** Echo is an offer toward a plain-RTP stand-in answerer with ng `media-echo: backwards`:
 *  "Enables media echo towards the sender of this message" (the offerer); rtpengine then answers
 *  itself with the SDP it produced, so nothing is ever sent to that stand-in. */
export function echoOfferCommand(request: EchoRequest): NgDict {
  return {
    ...offerCommand({ ...request, toProfile: 'rtp' }),
    'media-echo': 'backwards',
  };
}

export function echoAnswerCommand(request: EchoRequest, producedSdp: string): NgDict {
  return answerCommand({ callId: request.callId, fromTag: request.fromTag, toTag: ECHO_TAG, sdp: producedSdp });
}

export function deleteCommand(callId: string): NgDict {
  return { command: 'delete', 'call-id': callId };
}
