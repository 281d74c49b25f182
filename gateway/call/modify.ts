// Session modification inside an answered call (RFC 3264 §8, RFC 3311, RFC 6337), from either side: the
// B2BUA policy behind SessionHooks. A re-INVITE or UPDATE with SDP is first checked against the side's
// offer/answer state (RFC 3261 §14.2 / RFC 3311 §5.2: 491, or 500 + Retry-After); then
//  - an offer the other side need not know of (needsOtherSide false: an unchanged refresh, an ICE
//    restart, a DTLS re-key, a new RTP address) is answered by the media engine alone, 200 at once;
//  - any other (hold/resume, direction, codecs, ptime) becomes our offer to the other leg, in an UPDATE
//    when that came in and the other side allows it, else a re-INVITE; its 2xx answer becomes ours, its
//    failure ours too, and the session stays as it was (RFC 3261 §14.1). A 491 from the other leg is
//    glare: we retry once after the §14.1 timer, then pass the 491 back so the requester retries.
// A re-INVITE without SDP gets our current SDP for that side in the 200; the answer comes in the ACK.
import type { Logger } from '../log.js';
import { needsOtherSide } from '../media/sdp/modification.js';
import { parseAudioSdp } from '../media/sdp/model.js';
import type { ModifiableMediaEngine, MediaEngine } from '../media/types.js';
import type { HeaderField, SipRequest, SipResponse } from '../sip/message/types.js';
import type { Dialog } from '../sip/dialog/index.js';
import type { Respond, SessionHooks } from '../sip/ua/in-dialog.js';
import { glareRetryDelay, type OaMessage, type OfferAnswer } from '../sip/ua/offer-answer.js';
import { ALLOWED_METHODS } from '../sip/ua/uas.js';
import { TRUNK_CODECS, type Call, type CallSide, type SessionPolicy } from './call.js';
import type { CallSession, SessionLeg } from './session-legs.js';

type Method = 'INVITE' | 'UPDATE';
const SDP = 'application/sdp';
const other = (side: CallSide): CallSide => (side === 'caller' ? 'callee' : 'caller');
const twoXx = (method: Method): OaMessage => (method === 'INVITE' ? 'INVITE-2xx' : 'UPDATE-2xx');

export interface ModifyOptions {
  /** [0, 1): glare retry delay and Retry-After values. Default Math.random. */
  random?: () => number;
}

/** How the other leg answered our offer: its SDP answer, or the status of its failure (408 for a
 *  timeout, 503 for a transport error). */
export type LegOutcome = { ok: true; sdp: string } | { ok: false; status: number };

/** RFC 3261 §14.1 / RFC 3311 §5.1: a failure of the other leg becomes the requester's. 491 stays 491
 *  (the requester retries after its own timer); a refusal of the offer → 488; a leg that is gone or
 *  broken → 500. */
export function failureFor(status: number): { status: number; reason: string } {
  if (status === 491) return { status: 491, reason: 'Request Pending' };
  if (status === 408 || status === 481 || status >= 500 && status < 600) return { status: 500, reason: 'Server Internal Error: the other party did not take the change' };
  return { status: 488, reason: 'Not Acceptable Here' };
}

function isModifiable(engine: MediaEngine): engine is ModifiableMediaEngine {
  return typeof (engine as Partial<ModifiableMediaEngine>).answerLocally === 'function';
}

/** RFC 3264 §8: "the SDP is unchanged" when the o= line (with its version) is the same. */
function sameOrigin(a: string, b: string): boolean {
  const origin = (s: string) => /^o=.*$/m.exec(s)?.[0]?.trim();
  return origin(a) !== undefined && origin(a) === origin(b);
}

/** The session policy that carries changes across the call (see the head of this file). */
export function modifySessions(o: ModifyOptions = {}): SessionPolicy {
  const modifiers = new WeakMap<Call, SessionModifier>();
  return (side, call) => {
    let m = modifiers.get(call);
    if (!m) modifiers.set(call, (m = new SessionModifier(call, o.random ?? Math.random)));
    return m.hooks(side);
  };
}

export const MODIFY_SESSIONS: SessionPolicy = modifySessions();

/** One request being answered: its response also moves the side's offer/answer state (`oa`). */
interface Exchange {
  side: CallSide;
  oa?: OfferAnswer;
  method: Method;
  req: SipRequest;
  respond: Respond;
  dialog: Dialog;
}

class SessionModifier {
  /** A change is being carried to the other leg (or answered): a second one from either side waits. */
  private busy = false;

  constructor(
    private readonly call: Call,
    private readonly random: () => number,
  ) {}

  private get log(): Logger {
    return this.call.log;
  }

  hooks(side: CallSide): SessionHooks {
    return {
      onReinvite: (req, respond, _tx, dialog) => this.receive({ side, method: 'INVITE', req, respond, dialog }),
      onUpdate: (req, respond, _tx, dialog) => this.receive({ side, method: 'UPDATE', req, respond, dialog }),
      onAck: (ack) => this.onAck(side, ack),
    };
  }

  private receive(ex: Exchange): void {
    const hasSdp = ex.req.body.length > 0;
    const session = this.call.session;
    if (!session || this.call.ended || !isModifiable(this.call.ctx.media)) {
      // The echo line (or an engine that cannot re-offer) keeps its session as it is (RFC 3261 §14.2: 488);
      // before the 2xx/ACK there is nothing to modify yet (§14.2: 500 with Retry-After).
      if (this.call.is('answered')) return ex.respond(488, 'Not Acceptable Here: this call cannot be modified');
      return ex.respond(500, 'Server Internal Error: session not established', { headers: [{ name: 'Retry-After', value: '1' }] });
    }
    const oa = (ex.oa = session[ex.side].oa);
    const verdict = oa.checkIncoming(ex.method, hasSdp, this.random);
    if (!verdict.accept) {
      const headers = verdict.status === 500 ? [{ name: 'Retry-After', value: String(verdict.retryAfter) }] : [];
      return ex.respond(verdict.status, verdict.status === 491 ? 'Request Pending' : 'Server Internal Error', { headers });
    }
    // Both sides changing at once: the one that came second is glare for us (RFC 3261 §14.2 by analogy).
    if (this.busy && (hasSdp || ex.method === 'INVITE')) return ex.respond(491, 'Request Pending');
    oa.onMessage('received', ex.method, hasSdp);
    if (!hasSdp) {
      // RFC 3311 §5.2: an UPDATE without SDP (a target refresh) is answered at once; a re-INVITE without
      // SDP gets our offer (RFC 3261 §14.2: "the UAS ... MUST ... insert an offer in the 2xx").
      return this.finish(ex, 200, 'OK', ex.method === 'INVITE' ? session[ex.side].localSdp : undefined);
    }
    this.busy = true;
    this.modify(ex, session, this.call.ctx.media as ModifiableMediaEngine)
      .catch((err: Error) => {
        this.log.info({ err: err.message, side: ex.side, method: ex.method }, 'session modification failed');
        this.finish(ex, 488, 'Not Acceptable Here');
      })
      .finally(() => (this.busy = false));
  }

  /** An offer from `ex.side`: answered alone, or carried to the other leg. */
  private async modify(ex: Exchange, session: CallSession, engine: ModifiableMediaEngine): Promise<void> {
    const leg = session[ex.side];
    const sdp = ex.req.body.toString('utf8');
    const key = session.media.key;
    const reason = needsOtherSide(leg.remoteSdp, sdp);
    if (!reason) {
      const answer = await engine.answerLocally({ callId: key, fromTag: leg.tag, sdp, peerAddress: leg.peerAddress });
      this.log.info({ side: ex.side, method: ex.method }, 'session change answered locally');
      Object.assign(leg, { remoteSdp: sdp, localSdp: answer.sdp });
      return this.finish(ex, 200, 'OK', answer.sdp);
    }
    this.log.info({ side: ex.side, method: ex.method, reason }, 'session change carried to the other leg');
    const answer = await this.carry(session, ex.side, ex.method, sdp);
    if ('status' in answer) return this.finish(ex, answer.status, answer.reason);
    this.finish(ex, 200, 'OK', answer.sdp);
  }

  /** Offers `sdp` (from `from`) to the other leg; commits its answer or rolls the engine back. */
  private async carry(session: CallSession, from: CallSide, method: Method, sdp: string): Promise<{ sdp: string } | { status: number; reason: string }> {
    const leg = session[from];
    const to = session[other(from)];
    const profile = parseAudioSdp(to.remoteSdp).profile;
    const offer = await session.media.offer({ fromTag: leg.tag, sdp, toProfile: profile, codecs: profile === 'rtp' ? TRUNK_CODECS : undefined, peerAddress: leg.peerAddress });
    const outcome = await this.ask(other(from), to, method, offer.sdp);
    if (!outcome.ok) {
      await this.engine.rollback({ callId: session.media.key, fromTag: leg.tag });
      this.log.info({ status: outcome.status, to: other(from) }, 'the other leg refused the change: session unchanged');
      return failureFor(outcome.status);
    }
    let answer;
    try {
      answer = await session.media.answer({ fromTag: leg.tag, toTag: to.tag, sdp: outcome.sdp, peerAddress: to.peerAddress });
    } catch (err) {
      // An answer the engine cannot use (e.g. no codec in common): our side of the session stays as it was;
      // the other leg keeps what it answered until the next offer (not re-offered here).
      await this.engine.rollback({ callId: session.media.key, fromTag: leg.tag });
      this.log.warn({ err: (err as Error).message, to: other(from) }, 'the other leg\'s answer is unusable: session unchanged');
      return { status: 488, reason: 'Not Acceptable Here' };
    }
    Object.assign(leg, { remoteSdp: sdp, localSdp: answer.sdp });
    Object.assign(to, { remoteSdp: outcome.sdp, localSdp: offer.sdp });
    return answer;
  }

  private get engine(): ModifiableMediaEngine {
    return this.call.ctx.media as ModifiableMediaEngine;
  }

  /** Our offer to `side` in an UPDATE (when asked for and allowed) or a re-INVITE; a 491 (glare) is
   *  retried once after the RFC 3261 §14.1 timer. */
  private async ask(side: CallSide, leg: SessionLeg, wanted: Method, sdp: string): Promise<LegOutcome> {
    const method: Method = wanted === 'UPDATE' && leg.allows.includes('UPDATE') ? 'UPDATE' : 'INVITE';
    const first = await this.send(side, leg, method, sdp);
    if (first.ok || first.status !== 491 || this.call.ended) return first;
    const delay = glareRetryDelay(leg.ownsCallId, this.random);
    this.log.info({ side, delay }, 'glare (491): retrying our offer');
    await new Promise((resolve) => setTimeout(resolve, delay));
    return this.call.ended ? first : this.send(side, leg, method, sdp);
  }

  /** One request with our offer to `side` (its offer/answer state moves in leg.usage, session-legs.ts);
   *  resolves with its outcome (once). */
  private send(side: CallSide, leg: SessionLeg, method: Method, sdp: string): Promise<LegOutcome> {
    if (!leg.oa.canSend(method, true)) return Promise.resolve({ ok: false, status: 491 });
    return new Promise((resolve) => {
      let settled = false;
      const done = (status: number, res?: SipResponse): void => {
        if (settled) return;
        settled = true;
        const body = res?.body.toString('utf8') ?? '';
        // A 2xx without an answer breaks offer/answer (RFC 3264 §4): treated as a refusal.
        resolve(status < 300 && body.length > 0 ? { ok: true, sdp: body } : { ok: false, status: status < 300 ? 488 : status });
      };
      const opts = { body: Buffer.from(sdp), contentType: SDP, headers: [allowHeader()] };
      leg.usage
        .sendInDialog(method, opts, {
          onResponse: (res) => res.status >= 200 && done(res.status, res),
          onTimeout: () => done(408),
          onTransportError: () => done(503),
        })
        .catch((err: Error) => {
          this.log.info({ err: err.message, side }, `${method} not sent`);
          done(503);
        });
    });
  }

  /** Answers the request and moves the side's offer/answer state with the response. */
  private finish(ex: Exchange, status: number, reason: string, sdp?: string): void {
    if (status < 300) ex.oa?.onMessage('sent', twoXx(ex.method), sdp !== undefined);
    ex.oa?.onFinal('received', ex.method, status);
    const headers: HeaderField[] = [allowHeader()];
    // RFC 3261 §12.1.1 / RFC 3311 §5.2: the 2xx to a target refresh request carries our Contact.
    if (status < 300 && ex.dialog.localContact) headers.push({ name: 'Contact', value: ex.dialog.localContact });
    const body = sdp === undefined ? undefined : Buffer.from(sdp);
    ex.respond(status, reason, { headers, body, contentType: body ? SDP : undefined });
  }

  /** The ACK of our 2xx to a re-INVITE: with our offer in that 2xx, it carries the answer (§14.2). */
  private onAck(side: CallSide, ack: SipRequest): void {
    const session = this.call.session;
    const oa = session?.[side].oa;
    if (!session || !oa || oa.state !== 'local-offer') return;
    const sdp = ack.body.toString('utf8');
    if (sdp.length === 0) {
      // RFC 3261 §13.2.1 wants the answer in the ACK; without one our offer lapses, the session stays.
      oa.onFinal('received', 'INVITE', 606);
      return this.log.info({ side }, 'ACK without the answer to our offer: session unchanged');
    }
    oa.onMessage('received', 'ACK', true);
    const leg = session[side];
    if (sameOrigin(leg.remoteSdp, sdp)) return;
    this.busy = true;
    this.applyAckAnswer(session, side, sdp)
      .catch((err: Error) => this.log.info({ err: err.message, side }, 'answer in ACK not applied'))
      .finally(() => (this.busy = false));
  }

  /** A changed answer in an ACK: what only this side's transport needs is applied by the engine; a change
   *  the other side must hear (e.g. a phone answering our offer with sendonly) is offered to it as this
   *  side's new offer. This side heard our unchanged SDP already, so the engine's answer is not sent. */
  private async applyAckAnswer(session: CallSession, side: CallSide, sdp: string): Promise<void> {
    const leg = session[side];
    if (!needsOtherSide(leg.remoteSdp, sdp)) {
      await this.engine.answerLocally({ callId: session.media.key, fromTag: leg.tag, sdp, peerAddress: leg.peerAddress });
      leg.remoteSdp = sdp;
      return;
    }
    const sent = leg.localSdp;
    const result = await this.carry(session, side, 'INVITE', sdp);
    leg.localSdp = sent;
    if ('status' in result) this.log.info({ side, status: result.status }, 'the other leg refused the change in an ACK');
  }
}

/** RFC 3261 §20.5 / RFC 3311 §5: Allow lists UPDATE only because we implement it. */
function allowHeader(): HeaderField {
  return { name: 'Allow', value: ALLOWED_METHODS.join(', ') };
}
