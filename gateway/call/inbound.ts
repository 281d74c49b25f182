// A call that rings a user: from a trunk (a DID), from the user's own PBX, or from another user (an
// extension call). The InboundCall owns the caller's leg (we are its UAS), the Fork of legs to the
// callee's contacts, and one media session per fork (key `${id}:${n}`): each fork gets its own offer
// built from the caller's, the winner's answer becomes the caller's answer, the others are deleted.
import { randomUUID } from 'node:crypto';
import type { UserConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { MediaProfile, SdpResult } from '../media/types.js';
import type { ContactRoute } from '../registrar/index.js';
import { getFrom, getTo } from '../sip/message/index.js';
import type { SipResponse } from '../sip/message/types.js';
import type { ServerTransaction } from '../sip/transaction/types.js';
import { forwardedMaxForwards } from '../sip/ua/request.js';
import { InviteServer } from '../sip/ua/invite-server.js';
import { peerAddressOf } from '../sip/ua/invite-client.js';
import { TRUNK_CODECS, type CallContext } from './call.js';
import { CANCELLED, NO_CONTACT, RING_TIMEOUT } from './fork-rules.js';
import { Fork } from './fork.js';
import { buildForkInvite, contactDest, contactVia, type CallerId } from './invite-builder.js';
import { deleteMediaSession, logCallEnded, startRingTimer } from './lifecycle.js';
import { browserFinalForMedia, type BrowserFinal } from './responses.js';
import { StateMachine } from '../lib/state-machine.js';
import { REJECT_SESSION_CHANGES } from './session-policy.js';
import { INBOUND_MACHINE, type InboundCallState } from './states.js';

/** Who is calling: a trunk or PBX (plain RTP, caller ID from its From) or an authenticated user. */
export type InboundCaller = { kind: 'network'; source: string } | { kind: 'user'; user: UserConfig };

export class InboundCall {
  /** Gateway-internal call key; fork n's media session is `${id}:${n}`. */
  readonly id = randomUUID();
  /** The caller's leg: we answer its INVITE. */
  readonly uas: InviteServer;
  readonly log: Logger;
  private readonly fsm = new StateMachine(INBOUND_MACHINE, 'routing');
  private fork: Fork | undefined;
  private keys: string[] = [];
  /** Fork n's peer IP (where its INVITE went): the strict-source latch expects its media from there. */
  private peers: string[] = [];
  private ringTimer: NodeJS.Timeout | undefined;
  /** Fork events that await the media engine are handled one after the other. */
  private queue: Promise<void> = Promise.resolve();
  private readonly unwatchFlow: () => void;

  constructor(
    private readonly ctx: CallContext,
    tx: ServerTransaction,
    readonly callee: UserConfig,
    private readonly caller: InboundCaller,
    private readonly onEnded: (call: InboundCall) => void,
  ) {
    this.log = ctx.logger.child({ call: this.id, callee: callee.name, ...(caller.kind === 'user' ? { caller: caller.user.name } : { from: caller.source }) });
    this.uas = new InviteServer(tx, { ...ctx, logger: this.log }, {
      onHangup: () => this.end(),
      onAckTimeout: () => this.end(),
      onCancel: () => this.end(CANCELLED),
      session: REJECT_SESSION_CHANGES,
    });
    // A browser caller whose WebSocket closed can neither hang up nor be reached (RFC 7118 §5).
    this.unwatchFlow = tx.flow.onClose(() => this.end({ status: 480, reason: 'Temporarily Unavailable' }));
  }

  get state(): InboundCallState {
    return this.fsm.state;
  }

  get ended(): boolean {
    return this.fsm.state === 'ended';
  }


  /** Rings every contact except the caller's own connection (calling yourself rings your other devices). */
  async start(contacts: readonly ContactRoute[]): Promise<void> {
    const own = this.uas.tx.flow.id;
    const targets = contacts.filter((c) => c.flow?.id !== own && contactDest(c) !== undefined);
    if (targets.length === 0) {
      this.log.info({ contacts: contacts.length }, 'no contact to ring');
      return this.end(NO_CONTACT);
    }
    this.keys = targets.map((_, n) => `${this.id}:${n}`);
    this.fork = new Fork({ ...this.ctx, logger: this.log }, targets.length, {
      onRinging: () => this.onRinging(),
      onWin: (n, res) => this.onWin(n, res),
      onAllFailed: (final) => this.end(final),
      onWinnerGone: () => this.end(),
    });
    this.fsm.to('ringing');
    this.startRingTimer();
    this.log.info({ forks: targets.length }, 'ringing');
    await Promise.all(targets.map((c, n) => this.ring(c, n)));
  }

  /** The caller CANCELled (§9.2): 487 to it, CANCEL without a Reason to every fork (a missed call). */
  cancel(): void {
    this.uas.receiveCancel();
  }

  /** Tears the call down: the caller gets `final` if unanswered (else BYE), ringing forks CANCEL, the
   *  answered fork BYE; every media session is freed. Idempotent. */
  end(final: BrowserFinal = { status: 500, reason: 'Server Internal Error' }): void {
    if (this.fsm.state === 'ended') return;
    const wasAnswered = this.fsm.state === 'answered';
    this.fsm.to('ended');
    clearTimeout(this.ringTimer);
    this.unwatchFlow();
    this.uas.hangup(final.status, final.reason);
    if (this.fork?.state === 'won') this.fork.hangupWinner();
    else this.fork?.cancel();
    for (const key of this.keys) this.deleteMedia(key);
    logCallEnded(this.log, wasAnswered, final);
    this.onEnded(this);
  }

  /** Fork n: a media offer for the contact's profile, then the INVITE over its flow or to its address. */
  private async ring(contact: ContactRoute, n: number): Promise<void> {
    const fork = this.fork!;
    const key = this.keys[n]!;
    const via = contactVia(contact, (kind, toward) => this.ctx.transport.localAddress(kind, toward));
    const dest = contactDest(contact);
    if (!via || !dest) return fork.skip(n, { status: 503, reason: 'Service Unavailable' });
    this.peers[n] = peerAddressOf(dest);
    let offer: SdpResult;
    try {
      // The caller's media is expected from its SDP c= or from where its INVITE came (a trunk, a PBX, a phone).
      const peerAddress = this.uas.tx.flow.remote.address;
      offer = await this.ctx.media.offer({ callId: key, fromTag: this.uas.remoteTag, sdp: this.callerSdp, peerAddress, ...this.profileFor(contact) });
    } catch (err) {
      this.log.info({ err: (err as Error).message, fork: n }, 'media engine refused a fork');
      return fork.skip(n, browserFinalForMedia(err));
    }
    const domain = this.ctx.config.sip.domain ?? via.sentBy.address;
    const maxForwards = forwardedMaxForwards(this.uas.invite);
    const invite = buildForkInvite({ contact, callee: this.callee.name, domain, caller: this.callerId(), sdp: offer.sdp, via, maxForwards });
    // The call may have been decided (or ended) while the offer was built: nothing to ring then.
    if (!fork.launch(n, { invite, dest, via }, contact.flow)) this.deleteMedia(key);
  }

  /** Browsers get WebRTC, SIP phones plain RTP. What comes from a trunk or PBX is G.711 only; a user's
   *  offer keeps its codecs toward another browser (opus passes through the relay untouched). */
  private profileFor(contact: ContactRoute): { toProfile: MediaProfile; codecs?: string[] } {
    const toProfile: MediaProfile = contact.webrtc ? 'webrtc' : 'rtp';
    const g711 = toProfile === 'rtp' || this.caller.kind === 'network';
    return { toProfile, codecs: g711 ? TRUNK_CODECS : undefined };
  }

  /** The caller ID the callee sees: the trunk's From (display name and user part) as received, or the
   *  authenticated user's name (never what a browser claims in its From). */
  private callerId(): CallerId {
    if (this.caller.kind === 'user') return { display: this.caller.user.name, user: this.caller.user.extension ?? this.caller.user.name };
    const from = getFrom(this.uas.invite);
    return { display: from.displayName, user: from.uri.user ?? 'anonymous' };
  }

  private get callerSdp(): string {
    return this.uas.invite.body.toString('utf8');
  }

  private onRinging(): void {
    if (this.fsm.state !== 'ringing') return;
    this.fsm.to('early');
    // §16.7 step 5 lets a proxy forward provisionals; a B2BUA relays the first as 180 Ringing, once.
    this.uas.provisional(180, 'Ringing');
  }

  private onWin(n: number, res: SipResponse): void {
    if (this.fsm.state !== 'ringing' && this.fsm.state !== 'early') return;
    this.fsm.to('connecting');
    clearTimeout(this.ringTimer);
    this.queue = this.queue
      .then(() => this.connect(n, res))
      .catch((err: Error) => {
        this.log.error({ err: err.message }, 'answer failed');
        this.end();
      });
  }

  /** The winner's SDP answer → media.answer → the caller's 2xx; the losers' media is freed. */
  private async connect(n: number, res: SipResponse): Promise<void> {
    if (this.fsm.state !== 'connecting') return;
    if (res.body.length === 0) return this.end({ status: 502, reason: 'Bad Gateway: no SDP answer' });
    const key = this.keys[n]!;
    let answer: SdpResult;
    try {
      const toTag = getTo(res).params.tag ?? '';
      answer = await this.ctx.media.answer({ callId: key, fromTag: this.uas.remoteTag, toTag, sdp: res.body.toString('utf8'), peerAddress: this.peers[n] });
    } catch (err) {
      this.log.info({ err: (err as Error).message }, 'media engine refused the answer');
      return this.end(browserFinalForMedia(err));
    }
    if (this.fsm.state !== 'connecting') return;
    this.keys.forEach((k, i) => i !== n && this.deleteMedia(k));
    this.keys = [key];
    this.fsm.to('answered');
    this.uas.accept(answer.sdp);
    this.log.info({ fork: n }, 'call answered');
  }

  private startRingTimer(): void {
    this.ringTimer = startRingTimer(this.ctx.config.calls.ringTimeout, this.log, () => this.end(RING_TIMEOUT));
  }

  private deleteMedia(key: string): void {
    deleteMediaSession(this.ctx.media, key, this.log);
  }
}
