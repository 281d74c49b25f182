// The callee side of a Call that rings a user: from a trunk (a DID), from the user's own PBX, or from
// another user (an extension call). One Fork of invite clients to the callee's contacts and one media
// handle per fork: each fork gets its own offer built from the caller's, the winner's answer becomes the
// caller's answer, the others are closed.
import type { UserConfig } from '../config/schema.js';
import { refusingAnswer } from '../media/sdp/late-offer.js';
import type { MediaProfile, SdpResult } from '../media/types.js';
import type { ContactRoute } from '../registrar/index.js';
import { getFrom, getTo } from '../sip/message/index.js';
import type { HeaderField, SipResponse } from '../sip/message/types.js';
import { peerAddressOf } from '../sip/ua/invite-client.js';
import { forwardedMaxForwards } from '../sip/ua/request.js';
import { TRUNK_CODECS, type Call, type CalleeSide } from './call.js';
import { NO_CONTACT, RING_TIMEOUT } from './fork-rules.js';
import { Fork } from './fork.js';
import { buildForkInvite, contactDest, contactVia, type CallerId } from './invite-builder.js';
import type { MediaSession } from './media-session.js';
import { offerCallerFromCallee } from './late-offer.js';
import { callerFinalForMedia, mediaRefusalLevel } from './responses.js';
import { answeredSession } from './session-legs.js';

/** Who is calling: a trunk or PBX (plain RTP, caller ID from its From) or an authenticated user. */
export type InboundCaller = { kind: 'network'; source: string } | { kind: 'user'; user: UserConfig };

export class RingCallee implements CalleeSide {
  private fork: Fork | undefined;
  private sessions: MediaSession[] = [];
  /** Fork n's peer IP (where its INVITE went): the strict-source latch expects its media from there. */
  private peers: string[] = [];
  /** Fork n's offer (session modification re-offers the winner's, modify.ts). */
  private offers: string[] = [];

  constructor(
    private readonly call: Call,
    private readonly callee: UserConfig,
    private readonly from: InboundCaller,
  ) {
    call.attach(this);
  }

  /** Ringing forks get CANCEL, the answered fork BYE (with `headers`: RFC 3326 Reason). */
  end(headers?: HeaderField[]): void {
    if (this.fork?.state === 'won') this.fork.hangupWinner(headers);
    else this.fork?.cancel();
  }

  /** Rings every contact except the caller's own connection (calling yourself rings your other devices). */
  async start(contacts: readonly ContactRoute[]): Promise<void> {
    const call = this.call;
    const own = call.caller.tx.flow.id;
    const targets = contacts.filter((c) => c.flow?.id !== own && contactDest(c) !== undefined);
    if (targets.length === 0) {
      call.log.info({ contacts: contacts.length }, 'no contact to ring');
      return call.end(NO_CONTACT);
    }
    this.sessions = targets.map((_, n) => call.openMedia(n));
    this.fork = new Fork(call.uaContext, targets.length, {
      onRinging: () => this.onRinging(),
      onWin: (n, res) => this.onWin(n, res),
      onAllFailed: (final) => call.end(final),
      onWinnerGone: () => call.end(),
      session: call.sessionHooks('callee'),
    });
    call.to('ringing');
    call.startRingTimer(RING_TIMEOUT);
    call.log.info({ forks: targets.length }, 'ringing');
    await Promise.all(targets.map((c, n) => this.ring(c, n)));
  }

  /** Fork n: a media offer for the contact's profile, then the INVITE over its flow or to its address. */
  private async ring(contact: ContactRoute, n: number): Promise<void> {
    const call = this.call;
    const fork = this.fork!;
    const session = this.sessions[n]!;
    const via = contactVia(contact, (kind, toward) => call.ctx.transport.localAddress(kind, toward));
    const dest = contactDest(contact);
    if (!via || !dest) return fork.skip(n, { status: 503, reason: 'Service Unavailable' });
    this.peers[n] = peerAddressOf(dest);
    let offer: SdpResult | undefined;
    try {
      // The caller's media is expected from its SDP c= or from where its INVITE came (a trunk, a PBX, a phone).
      // No offer from the caller: the contact gets none either and offers in its 2xx (late-offer.ts).
      if (call.callerOffered) offer = await session.offer({ fromTag: call.caller.remoteTag, sdp: call.callerSdp, peerAddress: call.callerAddress, ...this.profileFor(contact) });
    } catch (err) {
      call.log[mediaRefusalLevel(err)]({ err: (err as Error).message, fork: n }, 'media engine refused a fork');
      return fork.skip(n, callerFinalForMedia(err, call.ctx.config.media.admission.retryAfter));
    }
    const domain = call.ctx.config.sip.domain ?? via.sentBy.address;
    const maxForwards = forwardedMaxForwards(call.caller.invite);
    const invite = buildForkInvite({ contact, callee: this.callee.name, domain, caller: this.callerId(), sdp: offer?.sdp, via, maxForwards });
    this.offers[n] = offer?.sdp ?? '';
    // The call may have been decided (or ended) while the offer was built: nothing to ring then.
    invite.headers.push(...call.timers.inviteHeaders(false));
    const late = { lateOffer: offer === undefined, refuseOffer: refusingAnswer };
    if (!fork.launch(n, { invite, dest, via, intervalTooSmall: call.timers.retryHeaders, ...late }, contact.flow)) session.close();
  }

  /** Browsers get WebRTC, SIP phones plain RTP. What comes from a trunk or PBX is G.711 only; a user's
   *  offer keeps its codecs toward another browser (opus passes through the relay untouched). */
  private profileFor(contact: ContactRoute): { toProfile: MediaProfile; codecs?: string[] } {
    const toProfile: MediaProfile = contact.webrtc ? 'webrtc' : 'rtp';
    const g711 = toProfile === 'rtp' || this.from.kind === 'network';
    return { toProfile, codecs: g711 ? TRUNK_CODECS : undefined };
  }

  /** The caller ID the callee sees: the trunk's From (display name and user part) as received, or the
   *  authenticated user's name (never what a browser claims in its From). */
  private callerId(): CallerId {
    if (this.from.kind === 'user') return { display: this.from.user.name, user: this.from.user.extension ?? this.from.user.name };
    const from = getFrom(this.call.caller.invite);
    return { display: from.displayName, user: from.uri.user ?? 'anonymous' };
  }

  private onRinging(): void {
    if (!this.call.is('ringing')) return;
    this.call.to('early');
    // §16.7 step 5 lets a proxy forward provisionals; a B2BUA relays the first as 180 Ringing, once.
    this.call.caller.provisional(180, 'Ringing');
  }

  private onWin(n: number, res: SipResponse): void {
    if (!this.call.is('ringing', 'early')) return;
    this.call.to('connecting');
    this.call.stopRingTimer();
    this.call.timers.answered(res);
    // The winner's connection (a browser's WebSocket) is the call's to watch from now on (connection.ts).
    const fork = this.fork!;
    const flow = fork.winnerFlow;
    if (flow) this.call.watchConnection('callee', flow, (f) => fork.moveWinner(f));
    this.call.enqueue(() => this.connect(n, res), 'answer failed');
  }

  /** The winner's SDP answer → media answer → the caller's 2xx; the losers' media is closed. */
  private async connect(n: number, res: SipResponse): Promise<void> {
    const call = this.call;
    if (!call.is('connecting')) return;
    const client = this.fork?.winnerLeg;
    if (!call.callerOffered && client) {
      this.sessions.forEach((s, i) => i !== n && s.close());
      return void (await offerCallerFromCallee({ call, media: this.sessions[n]!, client, res }));
    }
    if (res.body.length === 0) return call.end({ status: 502, reason: 'Bad Gateway: no SDP answer' });
    const session = this.sessions[n]!;
    let answer: SdpResult;
    try {
      const toTag = getTo(res).params.tag ?? '';
      answer = await session.answer({ fromTag: call.caller.remoteTag, toTag, sdp: res.body.toString('utf8'), peerAddress: this.peers[n] });
    } catch (err) {
      call.log.info({ err: (err as Error).message }, 'media engine refused the answer');
      return call.end(callerFinalForMedia(err));
    }
    if (!call.is('connecting')) return;
    this.sessions.forEach((s, i) => i !== n && s.close());
    call.to('answered');
    call.caller.accept(answer.sdp);
    const usage = this.fork?.winnerLeg;
    const sdp = res.body.toString('utf8');
    if (usage) call.establish(answeredSession(call, { usage, media: session, res, answer: sdp, peerAddress: this.peers[n], offerSent: this.offers[n]!, answerSent: answer.sdp }));
    call.log.debug({ fork: n }, 'call answered');
  }
}
