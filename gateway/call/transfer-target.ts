// The new call a blind transfer places (RFC 3515 §2.4.3: the "triggered" INVITE): one invite client toward
// the Refer-To target — through a trunk or the user's own PBX, as the dial plan decided — carrying
// Referred-By (RFC 3892) and an offer the media engine derives from the remaining party's current SDP,
// so that once the target answers, the engine can splice the remaining party's leg onto it (no new
// offer to the remaining party, transfer-media.ts). Knows nothing of the REFER: the caller of this
// class reports its progress (transfer.ts).
import type { MediaProfile } from '../media/types.js';
import { getTo } from '../sip/message/index.js';
import type { HeaderField, SipResponse } from '../sip/message/types.js';
import type { SessionHooks } from '../sip/ua/in-dialog.js';
import { InviteClient, type InviteOutcome } from '../sip/ua/invite-client.js';
import { refusingAnswer } from '../media/sdp/late-offer.js';
import { TRUNK_CODECS, type Call, type CalleeSide } from './call.js';
import type { MediaSession } from './media-session.js';
import { callerFinalFor, type CallerFinal } from './responses.js';
import type { SessionLeg } from './session-legs.js';
import { offerSource, offerCodecs } from './transfer-media.js';
import { buildOutboundInvite, type OutboundRoute } from './trunk-leg.js';

/** The media engine tag of the placeholder side that offers to the target on the remaining party's
 *  behalf (its leg is freed by the splice). */
export const STAND_IN_TAG = 'transfer-stand-in';

export interface TargetAnswer {
  usage: InviteClient;
  res: SipResponse;
  media: MediaSession;
  /** The target's tag (its To tag) and SDP answer; the offer we sent it. */
  tag: string;
  sdp: string;
  offerSent: string;
  peerAddress: string;
}

export interface TargetEvents {
  /** A 18x from the target. */
  progress(status: number, reason: string): void;
  /** The target answered (2xx ACKed, its answer applied by the engine). */
  answered(a: TargetAnswer): void;
  /** The target failed (busy, no answer, unreachable) or the engine refused: the status for the sipfrag. */
  failed(final: CallerFinal): void;
  /** The target hung up after answering. */
  hungUp(): void;
  /** re-INVITE / UPDATE from the target once answered. */
  session: SessionHooks;
}

let branches = 0;

export class TransferTarget implements CalleeSide {
  private client: InviteClient | undefined;
  private media: MediaSession | undefined;
  private ringTimer: NodeJS.Timeout | undefined;
  private settled = false;

  constructor(
    private readonly call: Call,
    /** The party that stays (the transferee): its SDP is what the target is offered. */
    private readonly remaining: SessionLeg,
    private readonly events: TargetEvents,
  ) {}

  /** Dials `number` at `route` (a trunk or the user's PBX) with `headers` (Referred-By) on the INVITE. */
  async dial(route: OutboundRoute, number: string, headers: HeaderField[]): Promise<void> {
    const call = this.call;
    const media = (this.media = call.openMedia(1000 + ++branches));
    const profile: MediaProfile = 'rtp';
    let offer: string;
    try {
      const source = offerSource(this.remaining.remoteSdp);
      const codecs = offerCodecs(this.remaining, profile === 'rtp' ? TRUNK_CODECS : undefined);
      offer = (await media.offer({ fromTag: STAND_IN_TAG, sdp: source, toProfile: profile, codecs, peerAddress: this.remaining.peerAddress })).sdp;
    } catch (err) {
      call.log.info({ err: (err as Error).message }, 'transfer: no offer for the target');
      return this.fail({ status: 488, reason: 'Not Acceptable Here' });
    }
    const sentBy = call.ctx.transport.localAddress(route.target.transport, route.target.address);
    if (!sentBy || this.settled) return this.fail({ status: 503, reason: 'Service Unavailable' });
    const via = { transport: route.target.transport, sentBy };
    const invite = buildOutboundInvite(route, number, offer, via);
    invite.headers.push(...headers);
    const spec = { invite, dest: route.target, via, credentials: route.credentials, refuseOffer: refusingAnswer };
    this.client = new InviteClient(call.uaContext, spec, {
      onProvisional: (res) => !this.settled && this.events.progress(res.status, res.reason),
      onAnswer: (res) => call.enqueue(() => this.onAnswer(res, offer), 'transfer answer failed'),
      onFailure: (outcome) => this.fail(finalOf(outcome)),
      onHangup: () => (this.settled ? this.events.hungUp() : this.fail({ status: 480, reason: 'Temporarily Unavailable' })),
      session: this.events.session,
    });
    const seconds = call.ctx.config.calls.ringTimeout;
    this.ringTimer = setTimeout(() => {
      this.client?.hangup();
      this.fail({ status: 408, reason: 'Request Timeout' });
    }, seconds * 1000);
    call.log.info({ number, to: route.base.host }, 'transfer: calling the target');
    this.client.start();
  }

  /** CANCEL while the target rings, BYE once it answered; its media is freed with the call. */
  end(headers?: HeaderField[]): void {
    clearTimeout(this.ringTimer);
    this.client?.hangup(headers);
  }

  /** Gives up before the target answered (the REFER's dialog ended, the call ended). */
  abandon(): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.ringTimer);
    this.client?.hangup();
    this.media?.close();
  }

  private async onAnswer(res: SipResponse, offerSent: string): Promise<void> {
    if (this.settled) return void this.client?.hangup();
    const sdp = res.body.toString('utf8');
    const tag = getTo(res).params.tag ?? '';
    const client = this.client!;
    try {
      if (sdp.length === 0) throw new Error('no SDP answer');
      await this.media!.answer({ fromTag: STAND_IN_TAG, toTag: tag, sdp, peerAddress: client.peerAddress });
    } catch (err) {
      this.call.log.info({ err: (err as Error).message }, 'transfer: the target\'s answer is unusable');
      client.hangup();
      return this.fail({ status: 488, reason: 'Not Acceptable Here' });
    }
    if (this.settled) return void client.hangup();
    this.settled = true;
    clearTimeout(this.ringTimer);
    this.events.answered({ usage: client, res, media: this.media!, tag, sdp, offerSent, peerAddress: client.peerAddress });
  }

  private fail(final: CallerFinal): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.ringTimer);
    this.media?.close();
    this.call.log.info({ status: final.status }, 'transfer: the target failed');
    this.events.failed(final);
  }
}

/** The target's failure as the sipfrag status (RFC 3515 §2.4.5: the final response of the triggered INVITE). */
function finalOf(outcome: InviteOutcome): CallerFinal {
  return callerFinalFor(outcome);
}
