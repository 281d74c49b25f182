// What the session layer (modify.ts) knows of an answered call: each side's dialog usage (to send our
// re-INVITE / UPDATE), its media tag, and the last SDP each way — kept current by every modification.
// The callee side (DialCallee, RingCallee) fills it in when the call is answered.
import { getHeaderValues, getTo } from '../sip/message/index.js';
import type { SipMessage, SipRequest, SipResponse } from '../sip/message/types.js';
import type { ClientTransactionHandlers } from '../sip/transaction/types.js';
import type { DialogRequestOptions } from '../sip/ua/dialog-request.js';
import type { Call } from './call.js';
import type { MediaSession } from './media-session.js';

/** A dialog usage we can send in-dialog requests through (InviteServer, InviteClient). */
export interface InDialogSender {
  sendInDialog(method: string, o: DialogRequestOptions, handlers: ClientTransactionHandlers): Promise<SipRequest>;
}

/** One side of an answered call, as the session layer sees it. */
export interface SessionLeg {
  usage: InDialogSender;
  /** This side's tag in the media engine (the From tag of its offer, the To tag of its answer). */
  tag: string;
  /** Where its SIP comes from (the media engine's strict-source latch). */
  peerAddress?: string;
  /** RFC 3261 §14.1: whether we generated the dialog's Call-ID (the glare retry timer depends on it). */
  ownsCallId: boolean;
  /** The methods its Allow header named (RFC 3311 §5.1: send UPDATE only to a peer that allows it). */
  allows: readonly string[];
  /** The last SDP this side sent that took effect (its offer or answer). */
  remoteSdp: string;
  /** Our last SDP to this side (offer or answer): re-offered in the 2xx to a re-INVITE without SDP. */
  localSdp: string;
}

/** The answered call's two sides and the media session between them. */
export interface CallSession {
  media: MediaSession;
  caller: SessionLeg;
  callee: SessionLeg;
}

/** The methods a message's Allow header fields list (upper case); [] without one. */
export function allowedMethods(msg: SipMessage): string[] {
  return getHeaderValues(msg, 'Allow').flatMap((v) => v.split(',')).map((m) => m.trim().toUpperCase()).filter((m) => m !== '');
}

export interface CalleeAnswer {
  usage: InDialogSender;
  media: MediaSession;
  /** The callee's 2xx (its To tag and Allow). */
  res: SipResponse;
  /** The callee's SDP answer (in its 2xx, or in a reliable 18x before it). */
  answer: string;
  peerAddress?: string;
  /** The offer we sent to the callee. */
  offerSent: string;
  /** The answer we sent to the caller in our 2xx. */
  answerSent: string;
}

/** The CallSession of a call the callee just answered (the caller's INVITE offered, we created the
 *  callee's dialog, so we own its Call-ID). */
export function answeredSession(call: Call, a: CalleeAnswer): CallSession {
  const invite = call.caller.invite;
  return {
    media: a.media,
    caller: {
      usage: call.caller,
      tag: call.caller.remoteTag,
      peerAddress: call.callerAddress,
      ownsCallId: false,
      allows: allowedMethods(invite),
      remoteSdp: call.callerSdp,
      localSdp: a.answerSent,
    },
    callee: {
      usage: a.usage,
      tag: getTo(a.res).params.tag ?? '',
      peerAddress: a.peerAddress,
      ownsCallId: true,
      allows: allowedMethods(a.res),
      remoteSdp: a.answer,
      localSdp: a.offerSent,
    },
  };
}
