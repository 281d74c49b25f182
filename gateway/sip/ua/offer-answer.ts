// RFC 3264 offer/answer state of one dialog, with the placement rules of RFC 6337 §2 (which message may
// carry an offer, and where its answer goes), the request-pending rules (RFC 3261 §14.1/§14.2 for
// re-INVITE, RFC 3311 §5.1/§5.2 for UPDATE) and the glare retry timer of RFC 3261 §14.1. Pure: no
// timers, randomness injected. The call layer feeds every SDP-bearing (or SDP-less) request/response
// of the dialog and asks before sending or accepting an offer.
import { type EdgeTable, StateMachine, defineMachine } from '../../lib/state-machine.js';

/** Offer/answer state: nothing outstanding, or an offer we sent / received that awaits its answer. */
export type OaState = 'stable' | 'local-offer' | 'remote-offer';

/** The messages of RFC 6337 §2 Table 1. 'INVITE-1xx' is an unreliable provisional response. */
export type OaMessage =
  | 'INVITE'
  | 'INVITE-1xx'
  | 'INVITE-1xx-rel'
  | 'INVITE-2xx'
  | 'ACK'
  | 'PRACK'
  | 'PRACK-2xx'
  | 'UPDATE'
  | 'UPDATE-2xx';

export type Direction = 'sent' | 'received';

/** What the body of a message is. 'early-answer': SDP in an unreliable 1xx, a preview of the answer
 *  the 2xx will carry (RFC 3261 §13.2.1: the answer "can be" in a 1xx; it is final only when repeated
 *  reliably). 'repeat': SDP in a 2xx after a reliable 1xx already answered (RFC 6337 §3.1.1, paraphrased:
 *  it must be the same answer). 'unexpected': SDP where no offer or answer may be now. */
export type SdpRole = 'offer' | 'answer' | 'early-answer' | 'repeat' | 'unexpected' | 'none';

/** RFC 6337 §2 Table 1: an offer in the first column is answered in the second. */
const ANSWERED_IN: Readonly<Record<string, readonly OaMessage[]>> = {
  INVITE: ['INVITE-1xx-rel', 'INVITE-2xx'],
  'INVITE-1xx-rel': ['PRACK'],
  'INVITE-2xx': ['ACK'],
  PRACK: ['PRACK-2xx'],
  UPDATE: ['UPDATE-2xx'],
};

/** The offer/answer machine (RFC 3264 §4-§8): an offer moves stable to local-offer (we sent it) or
 *  remote-offer (we received it); its answer, or the failure of its transaction, moves back to stable. */
const EDGES: EdgeTable<OaState> = {
  stable: ['local-offer', 'remote-offer'],
  'local-offer': ['stable'],
  'remote-offer': ['stable'],
};
export const OFFER_ANSWER_MACHINE = defineMachine<OaState>('offer-answer', EDGES);

export type IncomingVerdict =
  | { accept: true }
  /** 491 Request Pending, or 500 with Retry-After (seconds). */
  | { accept: false; status: 491 }
  | { accept: false; status: 500; retryAfter: number };

/** RFC 3261 §14.2 / RFC 3311 §5.2: Retry-After "with a randomly chosen value of between 0 and 10
 *  seconds". `random` returns [0, 1). */
export function retryAfterSeconds(random: () => number): number {
  return Math.min(10, Math.floor(random() * 11));
}

/** RFC 3261 §14.1 (re-INVITE) and RFC 3311 §5.2 (UPDATE), after a 491: "If the UAC is the owner of the
 *  Call-ID of the dialog ID (meaning it generated the value), T has a randomly chosen value between 2.1
 *  and 4 seconds in units of 10 ms. If the UAC is not the owner of the Call-ID of the dialog ID, T has a
 *  randomly chosen value of between 0 and 2 seconds in units of 10 ms." Milliseconds. */
export function glareRetryDelay(callIdOwner: boolean, random: () => number): number {
  const [low, steps] = callIdOwner ? [2100, 191] : [0, 201];
  return low + 10 * Math.min(steps - 1, Math.floor(random() * steps));
}

interface OutstandingOffer {
  by: Direction;
  in: OaMessage;
}

export class OfferAnswer {
  /** The machine; subscribe with `machine.onChange()`. */
  readonly machine = new StateMachine(OFFER_ANSWER_MACHINE, 'stable');
  private offer: OutstandingOffer | undefined;
  /** INVITE transactions before their final response, per direction (RFC 3261 §14). */
  private readonly inviteRunning: Record<Direction, boolean> = { sent: false, received: false };
  /** UPDATE transactions before their final response, per direction (RFC 3311 §5.2). */
  private readonly updateRunning: Record<Direction, boolean> = { sent: false, received: false };
  /** Whether the running INVITE (per direction) carried an offer or has seen one in a reliable 1xx. */
  private readonly inviteHadOffer: Record<Direction, boolean> = { sent: false, received: false };
  /** Whether the running INVITE's offer was answered (so a 2xx body repeats it). */
  private readonly inviteAnswered: Record<Direction, boolean> = { sent: false, received: false };

  get state(): OaState {
    return this.machine.state;
  }

  /** Who made the outstanding offer and in which message, if any. */
  get outstanding(): Readonly<OutstandingOffer> | undefined {
    return this.offer;
  }

  /** The INVITE sent/received without an offer whose 2xx (or reliable 1xx) must carry one: "late
   *  offer" (RFC 3261 §13.2.1; RFC 6337 §2 row "2xx INVITE Resp. / ACK Req."). */
  lateOfferDue(dir: Direction): boolean {
    return this.inviteRunning[dir] && !this.inviteHadOffer[dir] && this.machine.state === 'stable';
  }

  /** Whether we may send a request of this method now (RFC 3261 §14.1: "a UAC MUST NOT initiate a new
   *  INVITE transaction within a dialog while another INVITE transaction is in progress in either
   *  direction"; RFC 3311 §5.1, paraphrased: no UPDATE with an offer while an offer is outstanding in
   *  either direction). An offer of ours is also refused while one is outstanding (RFC 3264 §4). */
  canSend(method: 'INVITE' | 'UPDATE', withOffer: boolean): boolean {
    if (method === 'INVITE' && (this.inviteRunning.sent || this.inviteRunning.received)) return false;
    if (withOffer || method === 'INVITE') return this.machine.state === 'stable';
    return true;
  }

  /** The verdict on a received INVITE/UPDATE before it is fed to onMessage().
   *  RFC 3261 §14.2: "A UAS that receives a second INVITE before it sends the final response to a first
   *  INVITE with a lower CSeq sequence number on the same dialog MUST return a 500 (Server Internal
   *  Error) response to the second INVITE and MUST include a Retry-After header field with a randomly
   *  chosen value of between 0 and 10 seconds." and "A UAS that receives an INVITE on a dialog while an
   *  INVITE it had sent on that dialog is in progress MUST return a 491 (Request Pending) response".
   *  RFC 3311 §5.2: an UPDATE with an offer while the UAS "has generated an offer ... to which it has not
   *  yet received an answer" → 491; while it "has received an offer ... to which it has not yet generated
   *  an answer" → 500 with Retry-After (0–10 s); and "A UAS that receives an UPDATE before it has
   *  generated a final response to a previous UPDATE on the same dialog MUST return a 500 response to the
   *  new UPDATE, and MUST include a Retry-After header field". The same outstanding-offer rule is applied to a
   *  re-INVITE (with or without SDP: without, we would have to offer), by analogy. */
  checkIncoming(method: 'INVITE' | 'UPDATE', hasSdp: boolean, random: () => number): IncomingVerdict {
    if (method === 'INVITE') {
      if (this.inviteRunning.sent) return { accept: false, status: 491 };
      if (this.inviteRunning.received) return { accept: false, status: 500, retryAfter: retryAfterSeconds(random) };
    } else {
      if (this.updateRunning.received) return { accept: false, status: 500, retryAfter: retryAfterSeconds(random) };
      if (!hasSdp) return { accept: true };
    }
    if (this.machine.state === 'local-offer') return { accept: false, status: 491 };
    if (this.machine.state === 'remote-offer') return { accept: false, status: 500, retryAfter: retryAfterSeconds(random) };
    return { accept: true };
  }

  /** Feed a message of the dialog as it is sent or received; returns what its body is and moves the
   *  state. An INVITE starts the INVITE transaction of that direction (end it with onFinal()). */
  onMessage(dir: Direction, msg: OaMessage, hasSdp: boolean): SdpRole {
    if (msg === 'INVITE') {
      this.inviteRunning[dir] = true;
      this.inviteHadOffer[dir] = hasSdp;
      this.inviteAnswered[dir] = false;
    }
    if (msg === 'UPDATE') this.updateRunning[dir] = true;
    if (!hasSdp) return 'none';
    const inviteDir = inviteDirOf(dir, msg);
    if (this.offer !== undefined && this.offer.by !== dir && ANSWERED_IN[this.offer.in]?.includes(msg)) {
      this.machine.to('stable');
      this.offer = undefined;
      if (inviteDir !== undefined) this.inviteAnswered[inviteDir] = true;
      return 'answer';
    }
    if (msg === 'INVITE-1xx' && this.offer?.in === 'INVITE' && this.offer.by !== dir) return 'early-answer';
    if (this.machine.state === 'stable' && this.mayOffer(msg, inviteDir)) {
      this.machine.to(dir === 'sent' ? 'local-offer' : 'remote-offer');
      this.offer = { by: dir, in: msg };
      if (inviteDir !== undefined) this.inviteHadOffer[inviteDir] = true;
      return 'offer';
    }
    const inInviteResponse = msg === 'INVITE-2xx' || msg === 'INVITE-1xx-rel' || msg === 'INVITE-1xx';
    if (inInviteResponse && inviteDir !== undefined && this.inviteAnswered[inviteDir]) return 'repeat';
    return 'unexpected';
  }

  /** RFC 6337 §2: INVITE, UPDATE and PRACK may carry an offer when none is outstanding; a reliable 1xx
   *  or the 2xx to an INVITE only when that INVITE carried none (late offer). */
  private mayOffer(msg: OaMessage, inviteDir: Direction | undefined): boolean {
    if (msg === 'INVITE' || msg === 'UPDATE' || msg === 'PRACK') return true;
    if (msg === 'INVITE-1xx-rel' || msg === 'INVITE-2xx') return inviteDir !== undefined && !this.inviteHadOffer[inviteDir];
    return false;
  }

  /** The final response of an INVITE or UPDATE (or PRACK) transaction, `dir` being the direction of
   *  the REQUEST. A non-2xx rolls back an offer made in that transaction: RFC 3261 §14.1 "If a UA
   *  receives a non-2xx final response to a re-INVITE, the session parameters MUST remain unchanged, as
   *  if no re-INVITE had been issued"; the same for UPDATE (RFC 3311 §5.1, paraphrased). */
  onFinal(dir: Direction, method: 'INVITE' | 'UPDATE' | 'PRACK', status: number): void {
    if (method === 'INVITE') this.inviteRunning[dir] = false;
    if (method === 'UPDATE') this.updateRunning[dir] = false;
    if (status < 300 || this.offer === undefined) return;
    const own = method === 'INVITE' ? this.offer.in.startsWith('INVITE') : this.offer.in === method;
    if (own) {
      this.machine.to('stable');
      this.offer = undefined;
    }
  }
}

/** The direction of the INVITE request a response belongs to: a response we send answers a received
 *  INVITE. undefined for messages outside an INVITE transaction's offer/answer (ACK, PRACK, UPDATE). */
function inviteDirOf(dir: Direction, msg: OaMessage): Direction | undefined {
  if (msg === 'INVITE') return dir;
  if (msg === 'INVITE-1xx' || msg === 'INVITE-1xx-rel' || msg === 'INVITE-2xx') return dir === 'sent' ? 'received' : 'sent';
  return undefined;
}
