// The callee side of a Call toward one target: a trunk, the user's own PBX (one InviteClient each), or the
// echo line (the media engine answers). B2BUA policy: the offer toward the target is the media engine's
// RTP/AVP rewrite of the caller's (RFC 3264 §5: only what the target may use — G.711 and telephone-event),
// 18x are relayed with their code (a 183's SDP converted for early media), the target's 2xx answer becomes
// the caller's 2xx, and its failure the caller's final response (responses.ts). Toward trunks a route may
// list several: failed attempts go on to the next within the one caller transaction (failover.ts), each
// INVITE carrying the route's number handling (rewrite, caller ID, privacy: caller-id.ts).
import type { TrunkRouteConfig } from '../config/dial-plan.js';
import type { TrunkConfig, UserConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import { rewriteNumber } from '../routing/rewrite.js';
import { giveUpWithoutResponse } from '../sip/ua/no-response.js';
import { answerFromOwnOffer, refusingAnswer } from '../media/sdp/late-offer.js';
import type { SdpResult } from '../media/types.js';
import { getTo, parseUri } from '../sip/message/index.js';
import type { HeaderField, SipRequest, SipResponse } from '../sip/message/types.js';
import { hasOptionTag } from '../sip/message/extension-headers.js';
import { InviteClient } from '../sip/ua/invite-client.js';
import { RELIABLE_TAG } from '../sip/ua/reliable-provisional.js';
import { forwardedMaxForwards } from '../sip/ua/request.js';
import { resolveTarget, TargetError } from '../sip/ua/target.js';
import { TRUNK_CODECS, type Call, type CalleeSide } from './call.js';
import type { MediaSession } from './media-session.js';
import { offerCallerFromCallee } from './late-offer.js';
import { callerFinalFor, callerFinalForMedia, type CallerFinal, type TrunkOutcome } from './responses.js';
import { answeredSession } from './session-legs.js';
import { buildOutboundInvite, trunkRoute, type OutboundRoute } from './trunk-leg.js';
import { callerNumber, presentIdentity } from './caller-id.js';
import { TrunkBoard } from './failover-board.js';
import { TrunkFailover, type TakeTrunk } from './failover.js';

const UNAVAILABLE = { status: 480, reason: 'Temporarily Unavailable' };

/** A call out through a trunk route: the trunks in the order this call tries them (load-share.ts). */
export interface TrunkPlan {
  candidates: TrunkConfig[];
  /** The route's number handling and failover set (absent: the dialled number as is, default set). */
  route?: TrunkRouteConfig;
  /** The dialled number, normalised (routing/index.ts), before the rewrite. */
  number: string;
  user: UserConfig;
  board: TrunkBoard;
  /** The call policy's slot on a trunk, per attempt (absent: no limits). */
  take?: TakeTrunk;
}

export class DialCallee implements CalleeSide {
  private client: InviteClient | undefined;
  private readonly session: MediaSession;
  private early: { sdp: string; answer: SdpResult } | undefined;
  /** The offer sent to the callee (session modification re-offers it, modify.ts). */
  private offerSent = '';
  /** Late offer (late-offer.ts): none, the caller's (pass-through), or ours toward a `lateOffer` trunk
   *  (`unsent`: the engine's offer for it, narrowed to the trunk's offer for our ACK). */
  private late: { kind: 'none' } | { kind: 'through' } | { kind: 'out'; unsent: string } = { kind: 'none' };
  /** The media engine's offer toward trunks, made once and sent to each trunk tried. */
  private engineOffer: Promise<SdpResult | undefined> | undefined;
  private failover: TrunkFailover | undefined;
  private plan: TrunkPlan | undefined;
  /** Early media (SDP) of the current attempt reached the caller: no failover from here (failover.ts). */
  private earlyMedia = false;
  private stopWatch: (() => void) | undefined;

  constructor(readonly call: Call) {
    this.session = call.openMedia();
    call.attach(this);
  }

  end(headers?: HeaderField[]): void {
    this.stopWatch?.();
    this.client?.hangup(headers);
    this.failover?.release();
  }

  /** While the call may still try a trunk (not answered, not ended). */
  private live(): boolean {
    return this.call.is('routing', 'calling', 'early');
  }

  /** The echo line: the media engine answers and loops the caller's media back. */
  async startEcho(): Promise<void> {
    const call = this.call;
    const result = await call.withMedia(() => this.session.echo({ fromTag: call.caller.remoteTag, sdp: call.callerSdp, peerAddress: call.callerAddress }));
    if (!result || !call.is('routing')) return;
    call.to('answered');
    call.caller.accept(result.sdp);
    call.log.info('echo call answered');
  }

  /** One trunk, no route (kept for callers that have no plan; no shared counters). */
  startTrunk(trunk: TrunkConfig, number: string, user: UserConfig): Promise<void> {
    return this.startTrunks({ candidates: [trunk], number, user, board: new TrunkBoard() });
  }

  /** Out through the plan's trunks, one after the other until one answers or fails for good. */
  startTrunks(plan: TrunkPlan): Promise<void> {
    this.plan = plan;
    this.failover = new TrunkFailover(plan.board, plan.candidates, { failoverOn: plan.route?.failoverOn, take: plan.take, log: this.call.log });
    return this.nextTrunk();
  }

  /** The next trunk the failover gives (walkTrunks); none left: the caller gets the failover's final. */
  private async nextTrunk(): Promise<void> {
    const call = this.call;
    const final = await walkTrunks(this.failover!, this.plan!, {
      log: call.log,
      callerInvite: call.caller.invite,
      live: () => this.live(),
      offer: (trunk) => this.inviteSdp(trunk.lateOffer),
      send: ({ trunk, route, number }, offer) => {
        call.log.debug({ trunk: trunk.name, number }, 'calling trunk'); // info: the CDR's `call ended` line
        call.dtmf.modes.callee = trunk.dtmf;
        call.parties.callee = { kind: 'trunk', trunk };
        return this.dial(route, number, offer, trunk.responseTimeout);
      },
    });
    if (final) call.end(final);
  }

  /** Out through the user's own PBX: its account's identity and credentials (upstream.outboundFor). */
  async startUpstream(route: OutboundRoute, number: string): Promise<void> {
    const offer = await this.inviteSdp();
    if (offer === undefined || !this.call.is('routing')) return;
    this.call.log.info({ pbx: route.base.host, number }, 'calling through the user\'s PBX');
    if (!this.dial(route, number, offer)) this.call.end({ status: 503, reason: `No ${route.target.transport.toUpperCase()} Transport To PBX` });
  }

  /** The SDP of the callee's INVITE: the engine's RTP offer, or null (no SDP) for a late offer — the
   *  caller sent none, or the trunk wants none (`lateOffer`). undefined: the media engine refused. */
  private async inviteSdp(lateOffer = false): Promise<string | null | undefined> {
    if (!this.call.callerOffered) {
      this.late = { kind: 'through' };
      return null;
    }
    this.engineOffer ??= this.rtpOffer();
    const offer = await this.engineOffer;
    this.late = { kind: 'none' };
    if (!offer || !lateOffer) return offer?.sdp;
    this.late = { kind: 'out', unsent: offer.sdp };
    return null;
  }

  private rtpOffer(): Promise<SdpResult | undefined> {
    const call = this.call;
    return call.withMedia(() =>
      this.session.offer({ fromTag: call.caller.remoteTag, sdp: call.callerSdp, toProfile: 'rtp', codecs: TRUNK_CODECS, peerAddress: call.callerAddress }),
    );
  }

  /** Sends the INVITE (false: no transport toward the target). `responseTimeoutS`: give up the attempt
   *  after that long without any response (no-response.ts). */
  private dial(route: OutboundRoute, number: string, sdp: string | null, responseTimeoutS?: number): boolean {
    const call = this.call;
    const sentBy = call.ctx.transport.localAddress(route.target.transport, route.target.address);
    if (!sentBy) {
      call.log.warn({ transport: route.target.transport }, 'no transport toward the target');
      return false;
    }
    const via = { transport: route.target.transport, sentBy };
    const invite = buildOutboundInvite(route, number, sdp ?? undefined, via, forwardedMaxForwards(call.caller.invite));
    this.offerSent = sdp ?? '';
    invite.headers.push(...call.timers.inviteHeaders(true));
    const spec = { invite, dest: route.target, via, credentials: route.credentials, intervalTooSmall: call.timers.retryHeaders, lateOffer: sdp === null, refuseOffer: refusingAnswer };
    // Events of an attempt given up (failover) are not this call's any more.
    const mine = (task: () => Promise<void> | void) => () => (client === this.client ? task() : undefined);
    const client = new InviteClient(call.uaContext, spec, {
      onProvisional: (res) => call.enqueue(mine(() => this.onProvisional(res))),
      onAnswer: (res) => (call.timers.answered(res), call.enqueue(mine(() => this.onAnswer(res)))),
      onFailure: (outcome) => call.enqueue(mine(() => this.onFailure(outcome))),
      // A BYE from the callee before the caller got its 2xx (media answer still pending) ends the attempt.
      onHangup: () => call.end(UNAVAILABLE),
      session: call.sessionHooks('callee'),
    });
    this.client = client;
    this.early = undefined;
    this.earlyMedia = false;
    if (call.is('routing')) {
      call.to('calling');
      call.startRingTimer(UNAVAILABLE);
    }
    client.start();
    if (responseTimeoutS !== undefined && client.state === 'calling') {
      this.stopWatch = giveUpWithoutResponse(client, responseTimeoutS * 1000, () => call.enqueue(mine(() => this.onFailure({ kind: 'timeout' }))));
    }
    return true;
  }

  /** 180/183 relayed with the same code; SDP in a 183 is converted for early media. */
  private async onProvisional(res: SipResponse): Promise<void> {
    const call = this.call;
    if (!call.is('calling', 'early')) return;
    // RFC 3262 §5: a `lateOffer` trunk may offer in a reliable 18x (early media): answered in the PRACK.
    if (this.late.kind === 'out' && res.body.length > 0 && hasOptionTag(res, 'Require', RELIABLE_TAG)) return this.answerEarlyOffer(res, this.late.unsent);
    let sdp: string | undefined;
    // With a late offer an SDP in a 1xx would be the callee's offer: not used for early media.
    if (res.body.length > 0 && res.status === 183 && !this.early && this.late.kind === 'none') {
      const early = res.body.toString('utf8');
      const answer = await call.withMedia(() => this.answerFrom(res, early));
      if (!answer) return;
      this.early = { sdp: early, answer };
      sdp = answer.sdp;
    }
    if (!call.is('calling', 'early')) return;
    if (call.is('calling')) call.to('early');
    if (sdp !== undefined) this.earlyMedia = true;
    call.caller.provisional(res.status, res.reason, sdp);
  }

  /** 2xx from the callee (already ACKed, unless a late offer's ACK waits for our answer): the caller
   *  gets 200 with the converted answer (or, for its late offer, our offer). */
  private async onAnswer(res: SipResponse): Promise<void> {
    const call = this.call;
    if (call.ended) return;
    if (this.late.kind === 'through') return void (await offerCallerFromCallee({ call, media: this.session, client: this.client!, res }));
    if (this.late.kind === 'out') return this.answerTrunkOffer(res, this.late.unsent);
    // RFC 3262 §5 (paraphrased): the SDP of a reliable 183 is the answer; the 2xx then usually has none.
    if (res.body.length === 0 && !this.early) return call.end({ status: 502, reason: 'Bad Gateway: no SDP answer from trunk' });
    const sdp = res.body.length === 0 ? this.early!.sdp : res.body.toString('utf8');
    const answer = this.early?.sdp === sdp ? this.early.answer : await call.withMedia(() => this.answerFrom(res, sdp));
    if (!answer || call.ended) return;
    this.connected(res, sdp, answer);
  }

  /** A `lateOffer` trunk's 2xx offer: our ACK answers it (see answerTrunk). */
  private async answerTrunkOffer(res: SipResponse, unsent: string): Promise<void> {
    if (res.body.length === 0) return this.call.end({ status: 502, reason: 'Bad Gateway: no SDP offer from trunk' });
    const agreed = await this.answerTrunk(res, unsent);
    if (!agreed) return;
    this.client?.sendAck(agreed.ours);
    this.connected(res, agreed.offer, agreed.answer);
  }

  /** A `lateOffer` trunk's offer in a reliable 18x: our PRACK answers it, the caller gets the early media;
   *  from here on the call goes as one whose offer was answered (the 2xx needs no SDP). */
  private async answerEarlyOffer(res: SipResponse, unsent: string): Promise<void> {
    const call = this.call;
    const agreed = await this.answerTrunk(res, unsent);
    if (!agreed || !call.is('calling', 'early')) return;
    this.client?.answerEarlyOffer(agreed.ours);
    this.late = { kind: 'none' };
    this.early = { sdp: agreed.offer, answer: agreed.answer };
    this.earlyMedia = true;
    if (call.is('calling')) call.to('early');
    call.caller.provisional(res.status, res.reason, agreed.answer.sdp);
  }

  /** The trunk's offer (in `res`) against the engine's unsent offer: our answer to the trunk is that offer
   *  narrowed to the trunk's (RFC 3264 §6.1); to the engine the trunk's offer is the answer to it, which
   *  gives the caller's answer. Undefined when the call ended (no common codec, engine refusal). */
  private async answerTrunk(res: SipResponse, unsent: string): Promise<{ offer: string; ours: string; answer: SdpResult } | undefined> {
    const call = this.call;
    const offer = res.body.toString('utf8');
    let ours: string;
    try {
      ours = answerFromOwnOffer(unsent, offer);
    } catch (err) {
      call.log.info({ err: (err as Error).message }, 'trunk late offer unusable');
      call.end(callerFinalForMedia(err));
      return undefined;
    }
    const answer = await call.withMedia(() => this.answerFrom(res, offer));
    if (!answer || call.ended) return undefined;
    this.offerSent = ours;
    return { offer, ours, answer };
  }

  /** The callee's session is agreed (its SDP `sdp`): the caller gets our 2xx with `answer`. */
  private connected(res: SipResponse, sdp: string, answer: SdpResult): void {
    const call = this.call;
    call.stopRingTimer();
    this.stopWatch?.();
    this.failover?.answered();
    call.to('answered');
    call.caller.accept(answer.sdp);
    if (this.client) call.establish(answeredSession(call, { usage: this.client, media: this.session, res, answer: sdp, peerAddress: this.client.peerAddress, offerSent: this.offerSent, answerSent: answer.sdp }));
    call.log.debug('call answered');
  }

  private answerFrom(res: SipResponse, sdp: string): Promise<SdpResult> {
    const toTag = getTo(res).params.tag ?? '';
    // The callee's media is expected from its SDP c= or from the address its SIP was sent to.
    // a trunks[].dtmf 'info' trunk without telephone-event: the caller keeps it, its events become INFO
    const keepTelephoneEvent = this.call.dtmf.modes.callee === 'info';
    return this.session.answer({ fromTag: this.call.caller.remoteTag, toTag, sdp, peerAddress: this.client?.peerAddress, keepTelephoneEvent });
  }

  /** The attempt failed: on to the next trunk (failover.ts), else the caller gets the failure. */
  private onFailure(outcome: TrunkOutcome): Promise<void> | void {
    this.stopWatch?.();
    this.call.log.info({ outcome }, 'trunk leg failed');
    if (!this.failover) return this.call.end(callerFinalFor(outcome));
    if (this.live() && this.failover.failed(outcome, this.earlyMedia)) return this.nextTrunk();
    this.call.end(this.failover.final());
  }
}

/** One attempt of a trunk plan: the trunk, our identity toward it and the number after the rewrites. */
export interface TrunkAttempt {
  trunk: TrunkConfig;
  route: OutboundRoute;
  number: string;
}

/** The number toward `trunk`: the route's rewrite, then the trunk's (routing/rewrite.ts). */
export function attemptNumber(plan: Pick<TrunkPlan, 'number' | 'route'>, trunk: TrunkConfig): string {
  return rewriteNumber(rewriteNumber(plan.number, plan.route?.rewrite), trunk.rewrite);
}

/** The trunk's target and our identity toward it (caller-id.ts: the route's or the user's caller ID,
 *  privacy, P-Asserted-Identity toward a trusted trunk); undefined when unresolvable. `callerInvite`: the
 *  INVITE whose Privacy header the caller may have set (absent: none asked). */
export async function attemptRoute(trunk: TrunkConfig, plan: Pick<TrunkPlan, 'user' | 'route'>, callerInvite: SipRequest | undefined, log: Logger): Promise<OutboundRoute | undefined> {
  let target;
  try {
    target = await resolveTarget(parseUri(trunk.uri));
  } catch (err) {
    log.warn({ err: (err as Error).message, trunk: trunk.name, unreachable: err instanceof TargetError }, 'trunk unresolvable');
    return undefined;
  }
  const route = trunkRoute(trunk, callerNumber(plan.user, plan.route), target);
  const id = presentIdentity({ user: plan.user, route: plan.route, trunk, host: route.base.host, callerInvite });
  return { ...route, from: id.from.uri, fromDisplay: id.from.displayName, headers: id.headers };
}

/** How a trunk walk sends its attempts (a call's callee side here, a transfer's target: transfer-target.ts). */
export interface TrunkWalker<O> {
  log: Logger;
  callerInvite?: SipRequest;
  /** Whether the walk may still go on (not answered, not ended …). */
  live(): boolean;
  /** The SDP (or null: a late offer) of `trunk`'s INVITE; undefined stops the walk (the media refused). */
  offer(trunk: TrunkConfig): Promise<O | undefined>;
  /** Sends the INVITE; false when there is no transport toward the trunk (the next one is tried). */
  send(attempt: TrunkAttempt, offer: O): boolean;
}

/** Tries the failover's next trunks (an unreachable one counts as a transport error) until an INVITE is
 *  sent or the walk stops (undefined), or none is left: the final response for the caller — the
 *  failover's, or 484 when the rewrite left nothing to dial. */
export async function walkTrunks<O>(failover: TrunkFailover, plan: TrunkPlan, w: TrunkWalker<O>): Promise<CallerFinal | undefined> {
  for (let trunk = failover.next(); trunk; trunk = failover.next()) {
    const offer = await w.offer(trunk);
    if (offer === undefined || !w.live()) return undefined;
    const route = await attemptRoute(trunk, plan, w.callerInvite, w.log);
    if (!w.live()) return undefined;
    const number = attemptNumber(plan, trunk);
    // RFC 3261 §21.4.22 484 Address Incomplete: the rewrite left nothing to dial.
    if (number === '') return { status: 484, reason: 'Address Incomplete' };
    if (route && w.send({ trunk, route, number }, offer)) return undefined;
    if (!failover.failed({ kind: 'transport-error' }, false)) break;
  }
  return failover.final();
}
