// Pure translation of the media contract's requests into rtpengine ng commands (rtpengine 10.5
// ng_control_protocol: offer / answer / delete dictionaries).
import { isIPv6 } from 'node:net';
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
  // Seen with rtpengine 10.5 and Chromium (test/e2e/rtpengine-browser.test.ts): the offer rtpengine writes
  // toward a browser carries setup:actpass (RFC 5763 §5: an offerer MUST), a=mid and an ICE-lite host
  // candidate, and rtpengine ends up the DTLS server; answering a browser's actpass offer (ng answer, no
  // flags) it writes setup:active, which RFC 5763 §5 recommends to an answerer. No codec is transcoded: a
  // trunk leg is offered G.711 only (call layer TRUNK_CODECS), so both legs carry the same payloads.
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

/** media.strictSource for rtpengine (RTP Bleed protection). ng flag `strict source`: "rtpengine will
 *  continue to inspect the source address and port of incoming packets after the learning phase and
 *  compare them with the endpoint address that has been learned before. If there's a mismatch, the
 *  packet will be dropped and not forwarded." With it, ng `endpoint-learning: heuristic` ranks what is
 *  learned: "If a packet with a source address and port matching the SDP address is seen, this address
 *  is used. Otherwise, if a packet with a matching source address (but a different port) is seen, that
 *  address is used." Not strict: ng flag `media handover`, "the antithesis of strict-source" (re-learn
 *  the address at any time). ng `received from` hands over the IP the peer's SIP came from (rtpengine
 *  uses it for the endpoint only with `SIP source address`; the SDP's c= stays trusted here). */
export function sourceFlags(strictSource: boolean, peerAddress: string | undefined): NgDict {
  const receivedFrom: NgDict = peerAddress ? { 'received-from': [isIPv6(peerAddress) ? 'IP6' : 'IP4', peerAddress] } : {};
  if (!strictSource) return { flags: ['media-handover'], ...receivedFrom };
  return { flags: ['strict-source'], 'endpoint-learning': 'heuristic', ...receivedFrom };
}

/** ng flag `inject DTMF` on offers and answers (media.rtpengineInjectDtmf): rtpengine sets the call's media
 *  up so that ng `play DTMF` can inject RFC 4733 events into it later (without it: "Monologue has no media
 *  capable of DTMF injection"). The price, seen with rtpengine 10.5: it then decodes and re-encodes the
 *  audio (G.711 payloads no longer pass unchanged), hence off by default. */
export const INJECT_DTMF = 'inject-DTMF';

function withInjectDtmf(source: NgDict, inject: boolean): NgDict {
  return inject ? { ...source, flags: [...((source.flags as string[] | undefined) ?? []), INJECT_DTMF] } : source;
}

export function offerCommand(request: OfferRequest, strictSource = true, injectDtmf = false): NgDict {
  return {
    command: 'offer',
    'call-id': request.callId,
    'from-tag': request.fromTag,
    sdp: request.sdp,
    replace: ['origin', 'session-connection'],
    ...profileFlags(request.toProfile),
    ...codecFlags(request.codecs),
    ...withInjectDtmf(sourceFlags(strictSource, request.peerAddress), injectDtmf),
  };
}

export function answerCommand(request: AnswerRequest, strictSource = true, injectDtmf = false): NgDict {
  return {
    command: 'answer',
    'call-id': request.callId,
    'from-tag': request.fromTag,
    'to-tag': request.toTag,
    sdp: request.sdp,
    replace: ['origin', 'session-connection'],
    ...withInjectDtmf(sourceFlags(strictSource, request.peerAddress), injectDtmf),
  };
}

/** ng `play DTMF` (rtpengine ≥ 6.2; 10.5 here): an RFC 4733 event injected into the media the party
 *  `fromTag` sends, so it reaches that party's peer (its own telephone-event payload type, in its stream). */
export function playDtmfCommand(callId: string, fromTag: string, code: string, durationMs: number): NgDict {
  return { command: 'play DTMF', 'call-id': callId, 'from-tag': fromTag, code, duration: durationMs };
}

/** Echo is an offer toward a plain-RTP stand-in answerer with ng `media-echo: backwards`:
 *  "Enables media echo towards the sender of this message" (the offerer); rtpengine then answers
 *  itself with the SDP it produced, so nothing is ever sent to that stand-in. */
export function echoOfferCommand(request: EchoRequest, strictSource = true): NgDict {
  return {
    ...offerCommand({ ...request, toProfile: 'rtp' }, strictSource),
    'media-echo': 'backwards',
  };
}

export function echoAnswerCommand(request: EchoRequest, producedSdp: string, strictSource = true): NgDict {
  return answerCommand({ callId: request.callId, fromTag: request.fromTag, toTag: ECHO_TAG, sdp: producedSdp }, strictSource);
}

export function deleteCommand(callId: string): NgDict {
  return { command: 'delete', 'call-id': callId };
}
