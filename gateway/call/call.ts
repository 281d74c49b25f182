// One B2BUA call: the browser leg (we are its UAS) and, for trunk calls, the trunk leg (we are its UAC).
// The Call owns both legs and the media session; end() is idempotent and cascades to both legs.
import { randomUUID } from 'node:crypto';
import type { GatewayConfig, TrunkConfig, UserConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { MediaEngine, SdpResult } from '../media/types.js';
import { getTo, parseUri } from '../sip/message/index.js';
import type { SipResponse } from '../sip/message/types.js';
import type { ServerTransaction } from '../sip/transaction/types.js';
import { forwardedMaxForwards } from '../sip/ua/request.js';
import { resolveTarget, TargetError } from '../sip/ua/target.js';
import { InviteServer } from '../sip/ua/invite-server.js';
import { InviteClient, type InviteClientContext } from '../sip/ua/invite-client.js';
import { deleteMediaSession, logCallEnded, startRingTimer } from './lifecycle.js';
import { browserFinalFor, browserFinalForMedia, type BrowserFinal, type TrunkOutcome } from './responses.js';
import { StateMachine } from '../lib/state-machine.js';
import { CALL_MACHINE, type CallState } from './states.js';
import { buildOutboundInvite, trunkRoute, type OutboundRoute } from './trunk-leg.js';
import { REJECT_SESSION_CHANGES } from './session-policy.js';

export interface CallContext extends InviteClientContext {
  config: GatewayConfig;
  media: MediaEngine;
}

/** RFC 3264 §5: what the trunk may use. Never opus etc.: the trunk side is plain G.711. */
export const TRUNK_CODECS = ['PCMU', 'PCMA', 'telephone-event'];

export class Call {
  /** Gateway-internal key of the media session (not a SIP Call-ID). */
  readonly id = randomUUID();
  readonly browser: InviteServer;
  readonly log: Logger;
  private readonly fsm = new StateMachine(CALL_MACHINE, 'routing');
  private trunk: InviteClient | undefined;
  private ringTimer: NodeJS.Timeout | undefined;
  /** Trunk events are handled one after the other (each may await the media engine). */
  private queue: Promise<void> = Promise.resolve();
  private early: { sdp: string; answer: SdpResult } | undefined;
  private readonly unwatchFlow: () => void;

  constructor(
    private readonly ctx: CallContext,
    tx: ServerTransaction,
    readonly user: UserConfig,
    private readonly onEnded: (call: Call) => void,
  ) {
    this.log = ctx.logger.child({ call: this.id, user: user.name });
    const legCtx = { ...ctx, logger: this.log };
    this.browser = new InviteServer(tx, legCtx, {
      onHangup: () => this.end(),
      onAckTimeout: () => this.end(),
      onCancel: () => this.end({ status: 487, reason: 'Request Terminated' }),
      session: REJECT_SESSION_CHANGES,
    });
    // A browser whose WebSocket closed can neither hang up nor be reached (RFC 7118 §5): the trunk side
    // must not stay up (and billed) without it.
    this.unwatchFlow = tx.flow.onClose(() => {
      this.log.info('browser connection closed');
      this.end({ status: 480, reason: 'Temporarily Unavailable' });
    });
  }

  /** The caller's leg (the call table finds the call by its INVITE transaction). */
  get uas(): InviteServer {
    return this.browser;
  }

  get state(): CallState {
    return this.fsm.state;
  }

  /** Read through a getter: the state may change across an await. */
  get ended(): boolean {
    return this.fsm.state === 'ended';
  }


  private get offer(): string {
    return this.browser.invite.body.toString('utf8');
  }

  /** The echo line: the media engine answers and loops the browser's media back. */
  async startEcho(): Promise<void> {
    const result = await this.media(() =>
      this.ctx.media.echo({ callId: this.id, fromTag: this.browser.remoteTag, sdp: this.offer, peerAddress: this.browserAddress }),
    );
    if (!result || this.fsm.state !== 'routing') return;
    this.fsm.to('answered');
    this.browser.accept(result.sdp);
    this.log.info('echo call answered');
  }

  /** The trunk leg: an INVITE carrying the media engine's RTP/AVP rewrite of the browser's offer (RFC 3264
   *  §5: the offer lists only what the trunk may use — G.711 and telephone-event). */
  async startTrunk(trunk: TrunkConfig, number: string): Promise<void> {
    const offer = await this.rtpOffer();
    if (!offer || this.fsm.state !== 'routing') return;
    let target;
    try {
      target = await resolveTarget(parseUri(trunk.uri));
    } catch (err) {
      this.log.warn({ err: (err as Error).message, trunk: trunk.name }, 'trunk unresolvable');
      return this.end({ status: 503, reason: err instanceof TargetError ? 'Trunk Unreachable' : 'Service Unavailable' });
    }
    if (this.fsm.state !== 'routing') return;
    this.log.info({ trunk: trunk.name, number }, 'calling trunk');
    this.dial(trunkRoute(trunk, this.user.callerId ?? this.user.name, target), number, offer.sdp);
  }

  /** Out through the user's own PBX: its account's identity and credentials (upstream.outboundFor). */
  async startUpstream(route: OutboundRoute, number: string): Promise<void> {
    const offer = await this.rtpOffer();
    if (!offer || this.fsm.state !== 'routing') return;
    this.log.info({ pbx: route.base.host, number }, 'calling through the user\'s PBX');
    this.dial(route, number, offer.sdp);
  }

  private rtpOffer(): Promise<SdpResult | undefined> {
    return this.media(() =>
      this.ctx.media.offer({
        callId: this.id,
        fromTag: this.browser.remoteTag,
        sdp: this.offer,
        toProfile: 'rtp',
        codecs: TRUNK_CODECS,
        peerAddress: this.browserAddress,
      }),
    );
  }

  /** Where the browser's SIP came from (its WebSocket's remote address). */
  private get browserAddress(): string {
    return this.browser.tx.flow.remote.address;
  }

  private dial(route: OutboundRoute, number: string, sdp: string): void {
    const sentBy = this.ctx.transport.localAddress(route.target.transport, route.target.address);
    if (!sentBy) return this.end({ status: 503, reason: `No ${route.target.transport.toUpperCase()} Transport To Trunk` });
    const via = { transport: route.target.transport, sentBy };
    const invite = buildOutboundInvite(route, number, sdp, via, forwardedMaxForwards(this.browser.invite));
    const spec = { invite, dest: route.target, via, credentials: route.credentials };
    this.trunk = new InviteClient({ ...this.ctx, logger: this.log }, spec, {
      session: REJECT_SESSION_CHANGES,
      onProvisional: (res) => this.enqueue(() => this.onTrunkProvisional(res)),
      onAnswer: (res) => this.enqueue(() => this.onTrunkAnswer(res)),
      onFailure: (outcome) => this.enqueue(async () => this.onTrunkFailure(outcome)),
      // A BYE from the trunk before the browser got its 2xx (media answer still pending) ends the attempt.
      onHangup: () => this.end({ status: 480, reason: 'Temporarily Unavailable' }),
    });
    this.fsm.to('calling');
    this.startRingTimer();
    this.trunk.start();
  }

  /** The browser CANCELled its INVITE (§9.2: the 487 goes to the INVITE; the trunk gets a CANCEL). */
  cancel(): void {
    this.browser.receiveCancel();
  }

  /** Tears the call down: the browser gets `final` if still unanswered (else BYE), the trunk CANCEL or
   *  BYE, and the media session is freed. Idempotent. */
  end(final: BrowserFinal = { status: 500, reason: 'Server Internal Error' }): void {
    if (this.fsm.state === 'ended') return;
    const wasAnswered = this.fsm.state === 'answered';
    this.fsm.to('ended');
    clearTimeout(this.ringTimer);
    this.unwatchFlow();
    this.browser.hangup(final.status, final.reason);
    this.trunk?.hangup();
    this.freeMedia();
    logCallEnded(this.log, wasAnswered, final);
    this.onEnded(this);
  }

  private freeMedia(): void {
    deleteMediaSession(this.ctx.media, this.id, this.log);
  }

  /** Runs a media engine request; on failure ends the call with the mapped final response. If the call
   *  ended meanwhile, whatever was allocated is freed again. */
  private async media(op: () => Promise<SdpResult>): Promise<SdpResult | undefined> {
    try {
      const result = await op();
      if (this.fsm.state === 'ended') this.freeMedia();
      return result;
    } catch (err) {
      this.log.info({ err: (err as Error).message }, 'media engine refused');
      this.end(browserFinalForMedia(err));
      return undefined;
    }
  }

  private enqueue(task: () => Promise<void>): void {
    this.queue = this.queue.then(task).catch((err: Error) => {
      this.log.error({ err: err.message }, 'call event failed');
      this.end();
    });
  }

  private startRingTimer(): void {
    this.ringTimer = startRingTimer(this.ctx.config.calls.ringTimeout, this.log, () =>
      this.end({ status: 480, reason: 'Temporarily Unavailable' }),
    );
  }

  /** 180/183 relayed with the same code; SDP in a 183 is converted for early media. */
  private async onTrunkProvisional(res: SipResponse): Promise<void> {
    if (this.fsm.state !== 'calling' && this.fsm.state !== 'early') return;
    let sdp: string | undefined;
    if (res.body.length > 0 && res.status === 183 && !this.early) {
      const early = res.body.toString('utf8');
      const answer = await this.media(() => this.answerFrom(res, early));
      if (!answer) return;
      this.early = { sdp: early, answer };
      sdp = answer.sdp;
    }
    if (this.fsm.state !== 'calling' && this.fsm.state !== 'early') return;
    if (this.fsm.state === 'calling') this.fsm.to('early');
    this.browser.provisional(res.status, res.reason, sdp);
  }

  /** 2xx from the trunk (already ACKed): the browser gets 200 with the WebRTC answer. */
  private async onTrunkAnswer(res: SipResponse): Promise<void> {
    if (this.fsm.state === 'ended') return;
    if (res.body.length === 0) return this.end({ status: 502, reason: 'Bad Gateway: no SDP answer from trunk' });
    const sdp = res.body.toString('utf8');
    const answer = this.early?.sdp === sdp ? this.early.answer : await this.media(() => this.answerFrom(res, sdp));
    if (!answer || this.ended) return;
    clearTimeout(this.ringTimer);
    this.fsm.to('answered');
    this.browser.accept(answer.sdp);
    this.log.info('call answered');
  }

  private answerFrom(res: SipResponse, sdp: string): Promise<SdpResult> {
    const toTag = getTo(res).params.tag ?? '';
    // The trunk's media is expected from its SDP c= or from the address its SIP was sent to.
    return this.ctx.media.answer({ callId: this.id, fromTag: this.browser.remoteTag, toTag, sdp, peerAddress: this.trunk?.peerAddress });
  }

  private onTrunkFailure(outcome: TrunkOutcome): void {
    this.log.info({ outcome }, 'trunk leg failed');
    this.end(browserFinalFor(outcome));
  }
}
