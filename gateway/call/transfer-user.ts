// A blind transfer whose target is one of our users (RFC 3515 §2.4.3 "triggered" INVITE to a local AOR):
// the user's registered contacts are rung in parallel (a Fork, as for any call to the user), each with an
// offer the media engine derives from the remaining party's current SDP — WebRTC toward a browser, plain
// RTP toward a SIP phone — so that the answering contact's leg can be spliced onto the remaining party's
// (transfer-media.ts). Same outcome events as TransferTarget (trunk/PBX targets); knows nothing of REFER.
import type { UserConfig } from '../config/schema.js';
import { refusingAnswer } from '../media/sdp/late-offer.js';
import type { MediaProfile } from '../media/types.js';
import type { ContactRoute } from '../registrar/index.js';
import { getTo } from '../sip/message/index.js';
import type { HeaderField, SipResponse } from '../sip/message/types.js';
import { peerAddressOf } from '../sip/ua/invite-client.js';
import { TRUNK_CODECS, type Call, type CalleeSide } from './call.js';
import { NO_CONTACT } from './fork-rules.js';
import { Fork } from './fork.js';
import { buildForkInvite, contactDest, contactVia, type CallerId } from './invite-builder.js';
import type { MediaSession } from './media-session.js';
import { callerFinalForMedia, type CallerFinal } from './responses.js';
import type { SessionLeg } from './session-legs.js';
import { offerCodecs, offerSource } from './transfer-media.js';
import { STAND_IN_TAG, type TargetEvents } from './transfer-target.js';

let keys = 0;

export class UserTarget implements CalleeSide {
  private fork: Fork | undefined;
  private sessions: MediaSession[] = [];
  private offers: string[] = [];
  private peers: string[] = [];
  private ringTimer: NodeJS.Timeout | undefined;
  private settled = false;

  constructor(
    private readonly call: Call,
    /** The party that stays: its SDP is what each contact is offered. */
    private readonly remaining: SessionLeg,
    private readonly user: UserConfig,
    private readonly events: TargetEvents,
  ) {}

  /** Rings `contacts` (the user's registrations) with `headers` (Referred-By) on each INVITE, showing `caller`. */
  async ring(contacts: readonly ContactRoute[], headers: HeaderField[], caller: CallerId): Promise<void> {
    const call = this.call;
    const targets = contacts.filter((c) => contactDest(c) !== undefined);
    if (targets.length === 0) return this.fail(NO_CONTACT);
    this.sessions = targets.map(() => call.openMedia(3000 + ++keys));
    const fork = (this.fork = new Fork(call.uaContext, targets.length, {
      onRinging: () => !this.settled && this.events.progress(180, 'Ringing'),
      onWin: (n, res) => call.enqueue(() => this.onWin(n, res), 'transfer answer failed'),
      onAllFailed: (final) => this.fail(final),
      onWinnerGone: () => (this.settled ? this.events.hungUp() : this.fail({ status: 480, reason: 'Temporarily Unavailable' })),
      session: this.events.session,
    }));
    this.ringTimer = setTimeout(() => {
      fork.cancel();
      this.fail({ status: 408, reason: 'Request Timeout' });
    }, call.ctx.config.calls.ringTimeout * 1000);
    call.log.info({ user: this.user.name, forks: targets.length }, 'transfer: ringing the user');
    await Promise.all(targets.map((c, n) => this.branch(c, n, headers, caller)));
  }

  /** The answering contact's connection and how to follow it (a browser's WebSocket, connection.ts). */
  get winnerFlow(): { flow: NonNullable<Fork['winnerFlow']>; moveTo: (f: NonNullable<Fork['winnerFlow']>) => void } | undefined {
    const fork = this.fork;
    const flow = fork?.winnerFlow;
    return fork && flow ? { flow, moveTo: (f) => fork.moveWinner(f) } : undefined;
  }

  private async branch(contact: ContactRoute, n: number, headers: HeaderField[], caller: CallerId): Promise<void> {
    const call = this.call;
    const fork = this.fork!;
    const via = contactVia(contact, (kind, toward) => call.ctx.transport.localAddress(kind, toward));
    const dest = contactDest(contact);
    if (!via || !dest) return fork.skip(n, { status: 503, reason: 'Service Unavailable' });
    this.peers[n] = peerAddressOf(dest);
    const toProfile: MediaProfile = contact.webrtc ? 'webrtc' : 'rtp';
    let offer: string;
    try {
      const codecs = offerCodecs(this.remaining, toProfile === 'rtp' ? TRUNK_CODECS : undefined);
      offer = (await this.sessions[n]!.offer({ fromTag: STAND_IN_TAG, sdp: offerSource(this.remaining.remoteSdp), toProfile, codecs, peerAddress: this.remaining.peerAddress })).sdp;
    } catch (err) {
      call.log.info({ err: (err as Error).message, fork: n }, 'transfer: no offer for a contact');
      const { status, reason } = callerFinalForMedia(err); // overloaded → 503, as for a new call
      return fork.skip(n, { status, reason });
    }
    const invite = buildForkInvite({ contact, callee: this.user.name, domain: call.ctx.config.sip.domain ?? via.sentBy.address, caller, sdp: offer, via });
    invite.headers.push(...headers);
    this.offers[n] = offer;
    if (!fork.launch(n, { invite, dest, via, refuseOffer: refusingAnswer }, contact.flow)) this.sessions[n]!.close();
  }

  private async onWin(n: number, res: SipResponse): Promise<void> {
    const fork = this.fork!;
    if (this.settled) return fork.hangupWinner();
    const sdp = res.body.toString('utf8');
    const tag = getTo(res).params.tag ?? '';
    try {
      if (sdp.length === 0) throw new Error('no SDP answer');
      await this.sessions[n]!.answer({ fromTag: STAND_IN_TAG, toTag: tag, sdp, peerAddress: this.peers[n] });
    } catch (err) {
      this.call.log.info({ err: (err as Error).message }, 'transfer: the user\'s answer is unusable');
      fork.hangupWinner();
      return this.fail({ status: 488, reason: 'Not Acceptable Here' });
    }
    if (this.settled || !fork.winnerLeg) return fork.hangupWinner();
    this.settled = true;
    clearTimeout(this.ringTimer);
    this.sessions.forEach((s, i) => i !== n && s.close());
    this.events.answered({ usage: fork.winnerLeg, res, media: this.sessions[n]!, tag, sdp, offerSent: this.offers[n]!, peerAddress: this.peers[n]! });
  }

  /** CANCEL while ringing, BYE once answered. */
  end(headers?: HeaderField[]): void {
    clearTimeout(this.ringTimer);
    if (this.fork?.state === 'won') this.fork.hangupWinner(headers);
    else this.fork?.cancel();
  }

  /** Gives up before an answer (the call ended). */
  abandon(): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.ringTimer);
    this.fork?.cancel();
    for (const s of this.sessions) s.close();
  }

  private fail(final: CallerFinal): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.ringTimer);
    for (const s of this.sessions) s.close();
    this.call.log.info({ status: final.status, user: this.user.name }, 'transfer: the user did not answer');
    this.events.failed(final);
  }
}
