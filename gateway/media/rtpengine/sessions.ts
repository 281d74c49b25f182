// What the rtpengine-backed engine remembers of each call so it can answer a re-offer alone (replay
// the other side's last SDP), roll a rejected re-offer back (replay the last committed offer and
// answer) and watch the call's legs. rtpengine itself applies an ng offer at once; there is no
// "pending" in the ng protocol, so both are done by replaying what was committed.
import { parseAudioSdp } from '../sdp/model.js';
import type { AnswerRequest, MediaProfile, OfferRequest } from '../types.js';

export interface SideRecord {
  /** The last SDP this side sent that took effect (its offer or its answer). */
  sdp: string;
  profile: MediaProfile;
  peerAddress?: string;
  /** Our last answer to an offer of this side, by that offer's o= line (RFC 3264 §8 refresh). */
  lastAnswer?: { origin: string; sdp: string };
}

export interface CallRecord {
  sides: Map<string, SideRecord>;
  /** The offer and answer in effect (for rollback). */
  committed?: { offer: OfferRequest; answer: AnswerRequest };
  /** The last offer sent to rtpengine and not yet answered. */
  pending?: OfferRequest;
}

/** The profile an SDP speaks (plain RTP when the engine's parser cannot tell). */
export function profileOfSdp(sdp: string): MediaProfile {
  try {
    return parseAudioSdp(sdp).profile;
  } catch {
    return 'rtp';
  }
}

/** The o= identity of an SDP (unchanged in an unchanged session refresh). */
export function originOf(sdp: string): string | undefined {
  try {
    return parseAudioSdp(sdp).origin;
  } catch {
    return undefined;
  }
}

export class CallBook {
  private readonly calls = new Map<string, CallRecord>();

  get(callId: string): CallRecord | undefined {
    return this.calls.get(callId);
  }

  ids(): string[] {
    return [...this.calls.keys()];
  }

  /** An offer went to rtpengine: a new call, or a re-offer on a known one. */
  offered(request: OfferRequest): void {
    let call = this.calls.get(request.callId);
    if (!call || (!call.sides.has(request.fromTag) && call.committed)) {
      call = { sides: new Map() };
      this.calls.set(request.callId, call);
    }
    call.pending = request;
  }

  /** rtpengine took the answer: the offer and the answer are in effect. */
  answered(request: AnswerRequest, producedSdp: string): void {
    const call = this.calls.get(request.callId);
    const offer = call?.pending;
    if (!call || !offer) return;
    call.pending = undefined;
    call.committed = { offer, answer: request };
    const origin = originOf(offer.sdp);
    const offerer: SideRecord = { sdp: offer.sdp, profile: profileOfSdp(offer.sdp) };
    if (offer.peerAddress) offerer.peerAddress = offer.peerAddress;
    if (origin) offerer.lastAnswer = { origin, sdp: producedSdp };
    const answerer: SideRecord = { sdp: request.sdp, profile: offer.toProfile };
    if (request.peerAddress) answerer.peerAddress = request.peerAddress;
    call.sides.set(request.fromTag, offerer);
    call.sides.set(request.toTag, answerer);
  }

  delete(callId: string): void {
    this.calls.delete(callId);
  }
}
