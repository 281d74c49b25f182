// The new call a blind transfer places (RFC 3515 §2.4.3: the "triggered" INVITE): an invite client toward
// the Refer-To target — through the user's own PBX, or through the route's trunks one after the other as
// for any call (dial.ts walkTrunks: failover, rewrite, caller ID, the policy's slot per trunk) — carrying
// Referred-By (RFC 3892) and an offer the media engine derives from the remaining party's current SDP,
// so that once the target answers, the engine can splice the remaining party's leg onto it (no new
// offer to the remaining party, transfer-media.ts). Knows nothing of the REFER: the caller of this
// class reports its progress (transfer.ts).
import type { TrunkConfig } from '../config/schema.js';
import type { MediaProfile } from '../media/types.js';
import { getTo } from '../sip/message/index.js';
import type { HeaderField, SipRequest, SipResponse } from '../sip/message/types.js';
import type { SessionHooks } from '../sip/ua/in-dialog.js';
import { InviteClient, type InviteOutcome } from '../sip/ua/invite-client.js';
import { giveUpWithoutResponse } from '../sip/ua/no-response.js';
import { refusingAnswer } from '../media/sdp/late-offer.js';
import { TRUNK_CODECS, type Call, type CalleeSide } from './call.js';
import { walkTrunks, type TrunkPlan } from './dial.js';
import { TrunkFailover } from './failover.js';
import type { MediaSession } from './media-session.js';
import { callerFinalFor, callerFinalForMedia, type CallerFinal, type TrunkOutcome } from './responses.js';
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
  /** The trunk that answered (a trunk route's target). */
  trunk?: TrunkConfig;
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

/** A trunk route's walk in progress: the failover over the plan's trunks and what each INVITE carries. */
interface Walk {
  failover: TrunkFailover;
  plan: TrunkPlan;
  offer: string;
  headers: HeaderField[];
  callerInvite?: SipRequest;
}

export class TransferTarget implements CalleeSide {
  private client: InviteClient | undefined;
  private media: MediaSession | undefined;
  private ringTimer: NodeJS.Timeout | undefined;
  private stopWatch: (() => void) | undefined;
  private settled = false;
  private walk: Walk | undefined;
  /** The trunk of the attempt under way. */
  private trunk: TrunkConfig | undefined;

  constructor(
    private readonly call: Call,
    /** The party that stays (the transferee): its SDP is what the target is offered. */
    private readonly remaining: SessionLeg,
    private readonly events: TargetEvents,
  ) {}

  /** Dials `number` at `route` (the user's PBX) with `headers` (Referred-By) on the INVITE. */
  async dial(route: OutboundRoute, number: string, headers: HeaderField[]): Promise<void> {
    const offer = await this.makeOffer();
    if (offer === undefined) return;
    this.startRingTimer();
    if (!this.send(route, number, offer, headers)) this.fail({ status: 503, reason: 'Service Unavailable' });
  }

  /** Dials through `plan`'s trunks in order, as a call would (dial.ts walkTrunks); `callerInvite`: the
   *  transferring user's own INVITE when it asked for privacy (caller-id.ts). */
  async dialTrunks(plan: TrunkPlan, headers: HeaderField[], callerInvite?: SipRequest): Promise<void> {
    const offer = await this.makeOffer();
    if (offer === undefined) return;
    const failover = new TrunkFailover(plan.board, plan.candidates, { failoverOn: plan.route?.failoverOn, take: plan.take, log: this.call.log });
    this.walk = { failover, plan, offer, headers, callerInvite };
    this.startRingTimer();
    await this.nextTrunk();
  }

  private async nextTrunk(): Promise<void> {
    const w = this.walk!;
    const final = await walkTrunks(w.failover, w.plan, {
      log: this.call.log,
      callerInvite: w.callerInvite,
      live: () => !this.settled,
      offer: () => Promise.resolve(w.offer),
      send: ({ trunk, route, number }) => ((this.trunk = trunk), this.send(route, number, w.offer, w.headers, trunk.responseTimeout)),
    });
    if (final) this.fail(final);
  }

  /** The media engine's offer toward the target, from the remaining party's current SDP. */
  private async makeOffer(): Promise<string | undefined> {
    const media = (this.media = this.call.openMedia(1000 + ++branches));
    const profile: MediaProfile = 'rtp';
    try {
      const source = offerSource(this.remaining.remoteSdp);
      const codecs = offerCodecs(this.remaining, profile === 'rtp' ? TRUNK_CODECS : undefined);
      return (await media.offer({ fromTag: STAND_IN_TAG, sdp: source, toProfile: profile, codecs, peerAddress: this.remaining.peerAddress })).sdp;
    } catch (err) {
      this.call.log.info({ err: (err as Error).message }, 'transfer: no offer for the target');
      const { status, reason } = callerFinalForMedia(err); // overloaded → 503 in the NOTIFY, as for a new call
      this.fail({ status, reason });
      return undefined;
    }
  }

  private startRingTimer(): void {
    const seconds = this.call.ctx.config.calls.ringTimeout;
    this.ringTimer = setTimeout(() => {
      this.client?.hangup();
      this.fail({ status: 408, reason: 'Request Timeout' });
    }, seconds * 1000);
  }

  /** One INVITE (false: no transport toward the target). `responseTimeoutS`: a trunk's responseTimeout. */
  private send(route: OutboundRoute, number: string, offer: string, headers: HeaderField[], responseTimeoutS?: number): boolean {
    const call = this.call;
    const sentBy = call.ctx.transport.localAddress(route.target.transport, route.target.address);
    if (!sentBy || this.settled) return false;
    const via = { transport: route.target.transport, sentBy };
    const invite = buildOutboundInvite(route, number, offer, via);
    invite.headers.push(...headers);
    const spec = { invite, dest: route.target, via, credentials: route.credentials, refuseOffer: refusingAnswer };
    // Events of an attempt given up (failover) are not this transfer's any more.
    const mine = (task: () => void) => (): void => (client === this.client ? task() : undefined);
    const client: InviteClient = new InviteClient(call.uaContext, spec, {
      onProvisional: (res) => !this.settled && client === this.client && this.events.progress(res.status, res.reason),
      onAnswer: (res) => call.enqueue(() => (client === this.client ? this.onAnswer(res, offer) : client.hangup()), 'transfer answer failed'),
      onFailure: (outcome) => mine(() => this.onFailure(outcome))(),
      onHangup: () => (this.settled ? this.events.hungUp() : mine(() => this.fail({ status: 480, reason: 'Temporarily Unavailable' }))()),
      session: this.events.session,
    });
    this.client = client;
    call.log.info({ number, to: route.base.host, trunk: this.trunk?.name }, 'transfer: calling the target');
    client.start();
    this.stopWatch?.();
    if (responseTimeoutS !== undefined && client.state === 'calling') {
      this.stopWatch = giveUpWithoutResponse(client, responseTimeoutS * 1000, mine(() => this.onFailure({ kind: 'timeout' })));
    }
    return true;
  }

  /** An attempt failed: through a trunk route, on to the next trunk (failover.ts), else the target failed. */
  private onFailure(outcome: TrunkOutcome): void {
    this.stopWatch?.();
    if (this.settled) return;
    const w = this.walk;
    if (!w) return this.fail(finalOf(outcome));
    // The target's early media never reached the transferee: failover stays possible after a 183.
    if (w.failover.failed(outcome, false)) return void this.nextTrunk();
    this.fail(w.failover.final());
  }

  /** CANCEL while the target rings, BYE once it answered; its media is freed with the call. */
  end(headers?: HeaderField[]): void {
    clearTimeout(this.ringTimer);
    this.stopWatch?.();
    this.client?.hangup(headers);
    this.walk?.failover.release();
  }

  /** Gives up before the target answered (the REFER's dialog ended, the call ended). */
  abandon(): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.ringTimer);
    this.stopWatch?.();
    this.client?.hangup();
    this.walk?.failover.release();
    this.media?.close();
  }

  private async onAnswer(res: SipResponse, offerSent: string): Promise<void> {
    this.stopWatch?.();
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
    this.walk?.failover.answered();
    this.events.answered({ usage: client, res, media: this.media!, tag, sdp, offerSent, peerAddress: client.peerAddress, trunk: this.trunk });
  }

  private fail(final: CallerFinal): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.ringTimer);
    this.stopWatch?.();
    this.walk?.failover.release();
    this.media?.close();
    this.call.log.info({ status: final.status }, 'transfer: the target failed');
    this.events.failed(final);
  }
}

/** The target's failure as the sipfrag status (RFC 3515 §2.4.5: the final response of the triggered INVITE). */
function finalOf(outcome: InviteOutcome): CallerFinal {
  return callerFinalFor(outcome);
}
