// One B2BUA call: a caller side (we are the UAS of its INVITE: an InviteServer) and a callee side (one
// invite client toward a trunk or PBX, a fork of invite clients toward a user's contacts, or the echo
// line), plus the call's media held as handles. end() is idempotent and cascades: the caller gets its
// final response or BYE, the callee side CANCEL or BYE, every media handle is closed.
import { randomUUID } from 'node:crypto';
import type { GatewayConfig, TrunkConfig, UserConfig } from '../config/schema.js';
import { StateMachine, type ChangeListener, type MachineDef } from '../lib/state-machine.js';
import { lazyChild, type Logger } from '../log.js';
import type { MediaEngine, SdpResult } from '../media/types.js';
import type { HeaderField, SipRequest } from '../sip/message/types.js';
import type { ServerTransaction } from '../sip/transaction/types.js';
import type { Dialog } from '../sip/dialog/index.js';
import type { Flow } from '../sip/transport/types.js';
import type { SessionHooks } from '../sip/ua/in-dialog.js';
import type { InviteClientContext } from '../sip/ua/invite-client.js';
import { InviteServer } from '../sip/ua/invite-server.js';
import { reply } from '../sip/ua/uas.js';
import { ConnectionWatch, REASON_CONNECTION_LOST } from './connection.js';
import { CallDtmf } from './dtmf.js';
import { CANCELLED } from './fork-rules.js';
import { CallSessionTimers } from './session-timers.js';
import { MediaSession } from './media-session.js';
import { callerFinalForMedia, mediaRefusalLevel, type CallerFinal } from './responses.js';
import { MODIFY_SESSIONS } from './modify.js';
import type { CallSession } from './session-legs.js';
import type { CallState } from './states.js';

export interface CallContext extends InviteClientContext {
  config: GatewayConfig;
  media: MediaEngine;
  /** RFC 3515 REFER in a call's dialogs (transfer.ts); absent: 405. */
  transfers?: ReferHandler;
}

/** Who is on a side of the call: a user (a browser or SIP phone) or a trunk (transfer policy: whose
 *  rights a transfer target is dialled under, whether a trunk's REFER is honoured). */
export type Party = { kind: 'user'; user: UserConfig } | { kind: 'trunk'; trunk: TrunkConfig };

/** Takes a REFER received on `side` of `call` (transfer.ts). */
export interface ReferHandler {
  onRefer(call: Call, side: CallSide, req: SipRequest, tx: ServerTransaction, dialog: Dialog): void;
}

/** RFC 3264 §5: what a trunk (or SIP phone) may use. Never opus etc.: that side is plain G.711. */
export const TRUNK_CODECS = ['PCMU', 'PCMA', 'telephone-event'];

/** A gateway-internal call identifier (not a SIP Call-ID); media session keys derive from it. */
export type CallId = string & { readonly __callId: unique symbol };

/** What the Call needs of its callee side: ending it (CANCEL while ringing, BYE once answered), with
 *  `headers` (RFC 3326 Reason) on the BYE. */
export interface CalleeSide {
  end(headers?: HeaderField[]): void;
}

/** Which side of the call an in-dialog request arrived on. */
export type CallSide = 'caller' | 'callee';

/** Who ended a call: a side (its BYE, CANCEL, rejection, lost connection) or the gateway itself (ring
 *  timeout, limits, media timeout, shutdown). */
export type CallEndSide = CallSide | 'gateway';

/** How a call ended, as end() was told (CDRs, metrics and the "call ended" log line read it; gateway/cdr). */
export interface CallEndInfo {
  /** The final response the caller got (meaningful only when the call was not answered). */
  final: CallerFinal;
  /** The RFC 3326 Reason put on the BYEs / CANCEL, if any. */
  reason?: string;
  /** Who ended it, when end() was told; else undefined (gateway/cdr infers it). */
  by?: CallEndSide;
  answered: boolean;
}

/** How a call answers session modifications (re-INVITE, UPDATE) arriving on each side. */
export type SessionPolicy = (side: CallSide, call: Call) => SessionHooks;

export interface CallOptions {
  /** The moves this call's states may take (CALL_MACHINE or INBOUND_MACHINE). */
  machine: MachineDef<CallState>;
  /** Fields every log line of the call carries (user, callee, caller …). */
  logFields: Record<string, unknown>;
  /** Default: MODIFY_SESSIONS (modify.ts); REJECT_SESSION_CHANGES (session-policy.ts) refuses them all. */
  session?: SessionPolicy;
  /** The caller is a trunk or a PBX (RFC 4028 session timers are on by default toward them). */
  network?: boolean;
  /** Who is on each side, where known (transfer policy). */
  parties?: Partial<Record<CallSide, Party>>;
}

const UNAVAILABLE: CallerFinal = { status: 480, reason: 'Temporarily Unavailable' };

export class Call {
  readonly id = randomUUID() as CallId;
  readonly caller: InviteServer;
  readonly log: Logger;
  private readonly fsm: StateMachine<CallState>;
  private callee: CalleeSide | undefined;
  private readonly media = new Set<MediaSession>();
  private ringTimer: NodeJS.Timeout | undefined;
  /** Callee events are handled one after the other (each may await the media engine). */
  private queue: Promise<void> = Promise.resolve();
  /** Each side's connection (a lost one is kept for calls.reconnectGrace once answered). */
  private readonly links: Partial<Record<CallSide, ConnectionWatch>> = {};
  private readonly policy: SessionPolicy;
  /** The ACK of our 2xx to the caller, and who waits for it (late offer). */
  private callerAck: SipRequest | undefined;
  private ackListener: ((ack: SipRequest) => void) | undefined;
  private established: CallSession | undefined;
  /** RFC 4028 session timers of both legs (session-timers.ts). */
  readonly timers: CallSessionTimers;
  /** Who is on each side (transfer policy); a transfer puts its target's party on the side it replaced. */
  readonly parties: Partial<Record<CallSide, Party>>;
  /** What a transfer joined to this call (the target's usage, the other call of an attended transfer):
   *  ended with it. */
  private readonly joined: CalleeSide[] = [];
  /** DTMF between the legs: INFO ⇄ RFC 4733 (dtmf.ts); `dtmf.modes` says which side takes INFO. */
  readonly dtmf: CallDtmf;
  /** Set by end() just before the 'ended' change is announced (gateway/cdr, gateway/metrics). */
  endInfo: CallEndInfo | undefined;

  constructor(
    readonly ctx: CallContext,
    tx: ServerTransaction,
    options: CallOptions,
    private readonly onEnded: (call: Call) => void,
  ) {
    this.fsm = new StateMachine(options.machine, 'routing');
    this.policy = options.session ?? MODIFY_SESSIONS;
    this.log = ctx.logger.child({ call: this.id, ...options.logFields });
    this.parties = { ...options.parties };
    this.dtmf = new CallDtmf(this);
    this.timers = new CallSessionTimers(ctx.config.calls.sessionTimers, {
      log: this.log,
      target: (side) => this.session?.[side],
      expire: (reason) => this.end(UNAVAILABLE, reason, 'gateway'),
    });
    this.caller = new InviteServer(tx, this.uaContext, {
      answerHeaders: () => this.timers.answerHeaders(this.caller.invite, options.network === true),
      onHangup: () => this.end(undefined, undefined, 'caller'),
      onAckTimeout: () => this.end(undefined, undefined, 'caller'),
      onCancel: () => this.end(CANCELLED, undefined, 'caller'),
      onConfirmed: (ack) => this.onCallerAck(ack),
      onNoPrack: () => this.end({ status: 504, reason: 'Server Time-out: no PRACK' }, undefined, 'caller'),
      session: this.sessionHooks('caller'),
    });
    // A caller whose connection closed (a browser's WebSocket) can neither hang up nor be reached (RFC 7118
    // §5): the callee side must not stay up (and billed) without it — unless it reconnects (connection.ts).
    this.watchConnection('caller', tx.flow, (flow) => this.caller.moveTo(flow));
  }

  /** Watches `side`'s connection (connection.ts): closed while unanswered → the call ends (480); once
   *  answered → kept for calls.reconnectGrace, moved by a request of its dialog on a new connection
   *  (`moveTo` tells the usage), else ended with BYE + Reason "Connection lost". */
  watchConnection(side: CallSide, flow: Flow, moveTo: (flow: Flow) => void): void {
    this.links[side]?.close();
    if (this.ended) return;
    this.links[side] = new ConnectionWatch(flow, {
      graceMs: this.ctx.config.calls.reconnectGrace * 1000,
      answered: () => this.is('answered'),
      onClosedUnanswered: () => this.end(UNAVAILABLE, undefined, side),
      onGraceOver: () => this.end(UNAVAILABLE, REASON_CONNECTION_LOST, side),
      onMoved: moveTo,
      log: lazyChild(this.log, { side }), // rarely writes a line: a pino child only if it does
    });
  }

  /** A session modification of `side`'s dialog arrived over `flow`: a reconnected side moves there. */
  private follow(side: CallSide, flow: Flow): void {
    this.links[side]?.adopt(flow);
  }

  /** The context the call's INVITE usages run with (its own logger). */
  get uaContext(): CallContext {
    return { ...this.ctx, logger: this.log };
  }

  /** The hooks the INVITE usages of `side` ask about a re-INVITE or UPDATE (the session layer's entry). */
  sessionHooks(side: CallSide): SessionHooks {
    const hooks = this.timers.hooks(side, this.policy(side, this));
    // A reconnected browser re-INVITEs (ICE restart) over its new connection: the dialog moves there first.
    return {
      ...hooks,
      ...this.dtmf.hooks(side),
      onReinvite: (req, respond, tx, dialog) => (this.follow(side, tx.flow), hooks.onReinvite(req, respond, tx, dialog)),
      onUpdate: (req, respond, tx, dialog) => (this.follow(side, tx.flow), hooks.onUpdate(req, respond, tx, dialog)),
      onRefer: (req, tx, dialog) => (this.ctx.transfers ? this.ctx.transfers.onRefer(this, side, req, tx, dialog) : reply(tx, 405, 'Method Not Allowed')),
    };
  }

  /** Subscribes to the call's state changes; returns the unsubscribe function. */
  onChange(listener: ChangeListener<CallState>): () => void {
    return this.fsm.onChange(listener);
  }

  get state(): CallState {
    return this.fsm.state;
  }

  /** Read through a getter: the state may change across an await. */
  get ended(): boolean {
    return this.fsm.state === 'ended';
  }

  /** True while the state is one of `states` (read after every await). */
  is(...states: CallState[]): boolean {
    return this.fsm.is(...states);
  }

  to(next: CallState): void {
    this.fsm.to(next);
  }

  /** The caller's SDP offer. */
  get callerSdp(): string {
    return this.caller.invite.body.length > 0 ? this.caller.invite.body.toString('utf8') : this.callerAck?.body.toString('utf8') ?? '';
  }

  /** Whether the caller's INVITE carried an offer (else: late offer, RFC 3261 §13.2.1 — we offer in our
   *  2xx and its ACK answers). */
  get callerOffered(): boolean {
    return this.caller.invite.body.length > 0;
  }

  /** Late offer from the caller: `listener` gets the ACK of our 2xx (its body is the caller's answer). */
  whenCallerAcks(listener: (ack: SipRequest) => void): void {
    this.ackListener = listener;
    if (this.callerAck) listener(this.callerAck);
  }

  private onCallerAck(ack: SipRequest): void {
    this.callerAck = ack;
    this.ackListener?.(ack);
  }

  /** Where the caller's SIP came from: its media is expected from there (or from its SDP's c=). */
  get callerAddress(): string {
    return this.caller.tx.flow.remote.address;
  }

  attach(callee: CalleeSide): void {
    this.callee = callee;
  }

  /** Both sides' dialogs and SDP once the call is answered: what session modification works on. */
  get session(): CallSession | undefined {
    return this.established;
  }

  /** The callee side answered: from now on re-INVITE / UPDATE can be carried across (modify.ts). */
  establish(session: CallSession): void {
    this.timers.attach(session);
    this.established = session;
    this.dtmf.attach(session);
  }

  /** Transfer (transfer*.ts): `side`'s party is replaced — `session` is what session modification works on
   *  from now on, `part` (the new party's usage, or the other call of an attended transfer) ends with this
   *  call, and the departing party gets BYE. Its connection and session timer are no longer watched. */
  handOver(side: CallSide, part: CalleeSide, session: CallSession, party?: Party): void {
    if (this.ended) return part.end();
    this.links[side]?.close();
    delete this.links[side];
    this.timers.leg(side).close();
    this.joined.push(part);
    this.established = session;
    if (party) this.parties[side] = party;
    else delete this.parties[side];
    // DTMF between the two joined parties: worked out again (telephone-event on each, trunks[].dtmf).
    this.dtmf.rejoin(session, side, party?.kind === 'trunk' ? party.trunk.dtmf : undefined);
    if (side === 'caller') this.caller.hangup();
    else this.callee?.end();
    this.log.info({ side }, 'party handed over (transfer)');
  }

  /** A media handle of this call: the call's own session, or fork `branch`'s. Closed when the call ends. */
  openMedia(branch?: number): MediaSession {
    const session = new MediaSession(this.ctx.media, branch === undefined ? this.id : `${this.id}:${branch}`, this.log, this.mediaGroups());
    this.media.add(session);
    if (this.ended) session.close();
    return session;
  }

  /** Media worker placement (media.workers): this call's sessions — forks, transfer and click-to-call legs,
   *  which a splice joins — share a worker, and so do its users' calls (an attended transfer joins two). */
  private mediaGroups(): string[] {
    const users = Object.values(this.parties).flatMap((p) => (p?.kind === 'user' ? [`user:${p.user.name}`] : []));
    return [`call:${this.id}`, ...users];
  }

  /** Runs a media engine request; on failure ends the call with the mapped final response. */
  async withMedia(op: () => Promise<SdpResult>): Promise<SdpResult | undefined> {
    try {
      return await op();
    } catch (err) {
      this.log[mediaRefusalLevel(err)]({ err: (err as Error).message }, 'media engine refused');
      this.end(callerFinalForMedia(err, this.ctx.config.media.admission.retryAfter));
      return undefined;
    }
  }

  /** config: "Seconds a call may ring before the gateway gives up (480 / CANCEL)". */
  startRingTimer(final: CallerFinal): void {
    const seconds = this.ctx.config.calls.ringTimeout;
    this.ringTimer = setTimeout(() => {
      this.log.info({ seconds }, 'ring timeout');
      this.end(final, undefined, 'gateway');
    }, seconds * 1000);
  }

  stopRingTimer(): void {
    clearTimeout(this.ringTimer);
  }

  enqueue(task: () => Promise<void> | void, what = 'call event failed'): void {
    this.queue = this.queue.then(task).catch((err: Error) => {
      this.log.error({ err: err.message }, what);
      this.end();
    });
  }

  /** The caller CANCELled its INVITE (§9.2: the invite server answers 487 and tells us through onCancel). */
  cancel(): void {
    this.caller.receiveCancel();
  }

  /** Tears the call down: the caller gets `final` if still unanswered (else BYE), the callee side CANCEL
   *  or BYE, and every media handle is closed. `reason`: an RFC 3326 Reason for the BYEs (and a CANCEL)
   *  of both legs, e.g. REASON_CONNECTION_LOST. `by`: who ended it (CDRs; see CallEndInfo). Idempotent. */
  end(final: CallerFinal = { status: 500, reason: 'Server Internal Error' }, reason?: string, by?: CallEndSide): void {
    if (this.ended) return;
    const wasAnswered = this.fsm.state === 'answered';
    this.endInfo = { final, reason, by, answered: wasAnswered };
    this.fsm.to('ended');
    this.stopRingTimer();
    for (const link of Object.values(this.links)) link.close();
    this.timers.close();
    this.dtmf.close();
    const headers: HeaderField[] = reason === undefined ? [] : [{ name: 'Reason', value: reason }];
    this.caller.hangup(final.status, final.reason, headers, final.headers);
    this.callee?.end(headers);
    for (const part of this.joined) part.end(headers);
    for (const session of this.media) session.close();
    // An answered call ends with BYE; `final` only reached a caller whose INVITE was still unanswered. At info
    // the CDR's `call ended: …` line (README Logs) says it: one line per call, not four, at carrier rates.
    this.log.debug(wasAnswered ? { after: 'answer', reason } : { final: final.status, reason: final.reason }, 'call ended');
    this.onEnded(this);
  }
}
