// What the session layer (modify.ts) knows of an answered call: each side's dialog usage (to send our
// re-INVITE / UPDATE), its media tag, and the last SDP each way — kept current by every modification.
// The callee side (DialCallee, RingCallee) fills it in when the call is answered.
import { getCallId, getHeaderValues, getTo } from '../sip/message/index.js';
import type { SipMessage, SipRequest, SipResponse } from '../sip/message/types.js';
import type { ClientTransactionHandlers } from '../sip/transaction/types.js';
import type { DialogRequestOptions } from '../sip/ua/dialog-request.js';
import { OfferAnswer } from '../sip/ua/offer-answer.js';
import type { Call } from './call.js';
import type { MediaSession } from './media-session.js';

/** A dialog usage we can send in-dialog requests through (InviteServer, InviteClient). */
export interface InDialogSender {
  sendInDialog(method: string, o: DialogRequestOptions, handlers: ClientTransactionHandlers): Promise<SipRequest>;
}

/** One side of an answered call, as the session layer sees it. */
export interface SessionLeg {
  /** Sends in this side's dialog; every re-INVITE/UPDATE sent through it moves `oa`. */
  usage: InDialogSender;
  /** RFC 3264 / RFC 6337 offer/answer state of this side's dialog: our requests (through `usage`: the
   *  session layer's and the session timers' refreshes alike) and the peer's that the session layer
   *  answers (modify.ts). */
  oa: OfferAnswer;
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
  /** The dialog usage itself, unwrapped (transfer: which call and side a dialog belongs to). */
  dialogUsage?: InDialogSender;
  /** The SIP Call-ID of this side's dialog (a signed-in user's page finds its own call by it: GET
   *  /api/me/calls, http/api/me.ts); absent for a leg a transfer joined. */
  callId?: string;
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
  /** The answer we sent to the caller in our 2xx (with a late offer: our offer in it). */
  answerSent: string;
}

/** `usage` with every INVITE/UPDATE it sends, and its final response, fed to `oa` (RFC 3261 §14.1: no new
 *  INVITE while one is in progress either way; RFC 3311 §5.1 the same for an offer in an UPDATE). */
export function trackedSender(usage: InDialogSender, oa: OfferAnswer): InDialogSender {
  return {
    sendInDialog(method, o, handlers) {
      if (method !== 'INVITE' && method !== 'UPDATE') return usage.sendInDialog(method, o, handlers);
      oa.onMessage('sent', method, (o.body?.length ?? 0) > 0);
      let final = false;
      const end = (status: number, res?: SipResponse): void => {
        if (final) return;
        final = true;
        if (res && status < 300) oa.onMessage('received', method === 'INVITE' ? 'INVITE-2xx' : 'UPDATE-2xx', res.body.length > 0);
        oa.onFinal('sent', method, status);
      };
      const sent = usage.sendInDialog(method, o, {
        onResponse: (res) => (res.status >= 200 && end(res.status, res), handlers.onResponse(res)),
        onTimeout: () => (end(408), handlers.onTimeout()),
        onTransportError: (err) => (end(503), handlers.onTransportError(err)),
      });
      sent.catch(() => end(503));
      return sent;
    },
  };
}

function leg(base: Omit<SessionLeg, 'oa'>): SessionLeg {
  const oa = new OfferAnswer();
  return { ...base, oa, dialogUsage: base.usage, usage: trackedSender(base.usage, oa) };
}

/** A session leg for a usage that joins an answered call (transfer*.ts: a transfer target, a replacing INVITE). */
export const sessionLeg = leg;

/** The CallSession of a call the callee just answered (the caller's INVITE offered, we created the
 *  callee's dialog, so we own its Call-ID). */
export function answeredSession(call: Call, a: CalleeAnswer): CallSession {
  const invite = call.caller.invite;
  return {
    media: a.media,
    caller: leg({
      usage: call.caller,
      tag: call.caller.remoteTag,
      peerAddress: call.callerAddress,
      ownsCallId: false,
      callId: getCallId(invite),
      allows: allowedMethods(invite),
      remoteSdp: call.callerSdp, // with a late offer: the caller's answer in its ACK (Call.callerSdp)
      localSdp: a.answerSent,
    }),
    callee: leg({
      usage: a.usage,
      tag: getTo(a.res).params.tag ?? '',
      peerAddress: a.peerAddress,
      ownsCallId: true,
      callId: getCallId(a.res),
      allows: allowedMethods(a.res),
      remoteSdp: a.answer,
      localSdp: a.offerSent,
    }),
  };
}
