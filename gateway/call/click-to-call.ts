// Click-to-call (POST /api/calls {user, number}; README "HTTP API"): the gateway rings the user's
// registered browsers and phones first — a Fork with a WebRTC offer toward a browser, plain RTP toward a
// phone (transfer-user.ts's UserTarget), showing "Call to <number>" — and once one answers, dials the
// number as if the user had: the dial plan, the dial rules (checked before anything rings), failover
// and the user's PBX alike (dial.ts). When the far end answers, the user's leg and the trunk's are joined
// in the media engine (splice, transfer-media.ts): two UAC legs in one Call whose caller side stands for
// the API request (click-to-call-origin.ts).
import type { GatewayConfig, UserConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import { parseAudioSdp } from '../media/sdp/model.js';
import { canSplice } from '../media/types.js';
import type { CallPolicy } from '../policy/index.js';
import type { Registrar } from '../registrar/index.js';
import { routeFromUser, type RouteResult } from '../routing/index.js';
import type { HeaderField } from '../sip/message/types.js';
import type { Address } from '../sip/transport/types.js';
import { Call, type CallContext, type CalleeSide } from './call.js';
import { ApiOrigin, standInSdp } from './click-to-call-origin.js';
import { DialCallee } from './dial.js';
import type { CallTable } from './dispatch.js';
import { contactDest } from './invite-builder.js';
import { announceCall, type CallObserver } from './observer.js';
import { allowedMethods, sessionLeg, type SessionLeg } from './session-legs.js';
import { CALL_MACHINE } from './states.js';
import { joinedSession, spliceLegs, type KeptLeg } from './transfer-media.js';
import { STAND_IN_TAG, type TargetAnswer } from './transfer-target.js';
import { UserTarget } from './transfer-user.js';
import { waitingDecision, type UserLines } from './waiting.js';

/** ringing-user: the user's phones ring · dialling: the user answered, the number is being called ·
 *  connected: both legs joined. */
export type ClickToCallPhase = 'ringing-user' | 'dialling' | 'connected';

export type ClickToCallResult =
  | { ok: true; id: string }
  /** `status` is the HTTP status the API answers (404 unknown user or no route, 403 a dial rule, 409
   *  not registered or busy, 422 a number that is not dialled out, 501 a media engine that cannot join
   *  two legs). */
  | { ok: false; status: 403 | 404 | 409 | 422 | 501; error: string; rule?: string };

export interface ClickToCallDeps {
  config: GatewayConfig;
  registrar: Pick<Registrar, 'lookup'>;
  policy: CallPolicy;
  calls: CallTable;
  lines: UserLines<Call>;
  callCtx: CallContext;
  observers: readonly CallObserver[];
  logger: Logger;
  /** Told when a call ends (the service's bookkeeping). */
  ended(call: Call): void;
  /** The service's way out for a user's routed number (index.ts outbound: PBX, trunks with failover). */
  outbound(callee: DialCallee, user: UserConfig, r: RouteResult): Promise<void>;
}

const phases = new WeakMap<Call, ClickToCallPhase>();

/** The click-to-call phase of `call`, undefined for any other call. */
export function clickToCallPhase(call: Call): ClickToCallPhase | undefined {
  return phases.get(call);
}

/** Validates and starts one click-to-call; the outcome of the ringing and dialling is the call's own. */
export function clickToCall(d: ClickToCallDeps, userName: string, dialled: string): ClickToCallResult {
  if (!canSplice(d.callCtx.media)) return { ok: false, status: 501, error: 'click-to-call joins two legs in the media engine: media.engine embedded only' };
  const user = d.config.users.find((u) => u.name === userName);
  if (!user) return { ok: false, status: 404, error: `no user ${userName}` };
  const r = d.policy.route(routeFromUser(dialled, d.config));
  if (r.kind === 'echo' || r.kind === 'user') return { ok: false, status: 422, error: `${dialled} is ${r.kind === 'echo' ? 'the echo line' : 'a local user'}: click-to-call dials out through a trunk or the user's PBX` };
  if (r.kind === 'none' && (!user.upstream || r.number === '')) return { ok: false, status: 404, error: `no route for ${dialled}` };
  const admitted = d.policy.admit(user, r);
  if (!admitted.ok) return { ok: false, status: 403, error: admitted.reason, ...(admitted.rule !== undefined && { rule: String(admitted.rule) }) };
  const contacts = d.registrar.lookup(user.name).filter((c) => contactDest(c) !== undefined);
  const busy = waitingDecision(user, d.lines.count(user.name));
  const refusal = contacts.length === 0 ? `user ${user.name} has no registered phone` : !busy.ring ? `user ${user.name} is busy (${busy.why})` : undefined;
  const sentBy = d.callCtx.transport.localAddress('udp') ?? d.callCtx.transport.localAddress('tcp') ?? ({ address: '127.0.0.1', port: 5060 } as Address);
  if (refusal) {
    d.policy.settle(admitted.ticket);
    return { ok: false, status: 409, error: refusal };
  }
  const origin = new ApiOrigin(user, r.number, d.config.sip.domain ?? sentBy.address, sentBy);
  const call = new Call(d.callCtx, origin, { machine: CALL_MACHINE, logFields: { user: user.name, clickToCall: true } }, d.ended);
  call.parties.caller = { kind: 'user', user };
  if (r.kind === 'trunk') call.parties.callee = { kind: 'trunk', trunk: r.trunk };
  d.calls.add(call);
  const trunk = r.kind === 'trunk' ? { trunk: r.trunk.name } : {};
  announceCall(d.observers, call, { direction: 'outbound', callerUser: user.name, callerNumber: user.extension ?? user.name, calleeNumber: r.number, ...trunk }, d.logger);
  d.policy.track(call, admitted.ticket);
  d.policy.settle(admitted.ticket);
  d.lines.hold(call, [user.name]);
  new ClickToCall(d, call, origin, user, r).start(contacts);
  return { ok: true, id: call.id };
}

/** One click-to-call in progress: the user's ringing, then the number, then the join. */
class ClickToCall {
  private target: UserTarget | undefined;

  constructor(
    private readonly d: ClickToCallDeps,
    private readonly call: Call,
    private readonly origin: ApiOrigin,
    private readonly user: UserConfig,
    private readonly r: RouteResult,
  ) {}

  start(contacts: Parameters<UserTarget['ring']>[0]): void {
    const call = this.call;
    phases.set(call, 'ringing-user');
    const target = (this.target = new UserTarget(call, standInLeg(), this.user, {
      progress: () => undefined,
      answered: (a) => call.enqueue(() => this.userAnswered(a), 'click-to-call: dialling failed'),
      failed: (final) => call.end(final, undefined, 'caller'),
      hungUp: () => call.end(undefined, undefined, 'caller'),
      session: call.sessionHooks('caller'),
    }));
    call.attach(target);
    call.log.info({ number: this.r.number, contacts: contacts.length }, 'click-to-call: ringing the user');
    const caller = { display: `Call to ${this.r.number}`, user: this.r.number };
    target.ring(contacts, [], caller).catch((err: Error) => {
      call.log.error({ err: err.message }, 'click-to-call: ringing the user failed');
      call.end(undefined, undefined, 'gateway');
    });
  }

  /** The user answered: their leg waits (its media goes to the stand-in) while the number is dialled. */
  private async userAnswered(a: TargetAnswer): Promise<void> {
    const call = this.call;
    const target = this.target!;
    if (call.ended) return target.end();
    this.watchUser();
    const userLeg = sessionLeg({ usage: a.usage, tag: a.tag, peerAddress: a.peerAddress, ownsCallId: true, allows: allowedMethods(a.res), remoteSdp: a.sdp, localSdp: a.offerSent });
    // The trunk is offered what the user's phone chose, so that the two legs share a codec when joined.
    try {
      this.origin.narrowOffer(parseAudioSdp(a.sdp).codecs.map((c) => c.name));
    } catch {
      // the engine accepted the answer; the full stand-in offer stays
    }
    phases.set(call, 'dialling');
    const dial = new DialCallee(call);
    // Until joined, ending the call ends the user's leg (BYE) and the trunk's attempt (CANCEL / BYE).
    const both: CalleeSide = { end: (h) => (target.end(h && h.length > 0 ? h : this.failure()), dial.end(h)) };
    call.attach(both);
    const stop = call.onChange(({ to }) => {
      if (to === 'answered') call.enqueue(() => this.join({ media: a.media, leg: userLeg }, dial), 'click-to-call: join failed');
      if (to === 'answered' || to === 'ended') stop();
    });
    call.log.info({ number: this.r.number }, 'click-to-call: the user answered, dialling');
    this.d.outbound(dial, this.user, this.r).catch((err: Error) => {
      call.log.error({ err: err.message }, 'click-to-call: dialling failed');
      call.end(undefined, undefined, 'gateway');
    });
  }

  /** The far end answered (DialCallee accepted the stand-in caller): the user's leg and the trunk's are
   *  spliced; the stand-in caller usage is closed without any message. */
  private async join(user: KeptLeg, dial: DialCallee): Promise<void> {
    const call = this.call;
    const session = call.session;
    if (!session || call.ended) return;
    try {
      await spliceLegs(call.ctx.media, user, { media: session.media, leg: session.callee });
    } catch (err) {
      call.log.warn({ err: (err as Error).message }, 'click-to-call: the two legs cannot be joined');
      return call.end({ status: 488, reason: 'Not Acceptable Here' }, 'SIP;cause=488;text="No common codec"', 'gateway');
    }
    if (call.ended) return;
    call.handOver('caller', this.target!, joinedSession(session.media, 'caller', user.leg, session.callee), { kind: 'user', user: this.user });
    call.caller.close();
    call.attach(dial);
    this.watchUser();
    phases.set(call, 'connected');
    call.log.info({ number: this.r.number }, 'click-to-call: connected');
  }

  /** RFC 3326: the number's failure (busy, no answer, refused) on the BYE to the waiting user, so that
   *  their phone can say why; nothing once the call was answered. */
  private failure(): HeaderField[] | undefined {
    const info = this.call.endInfo;
    if (!info || info.answered) return undefined;
    return [{ name: 'Reason', value: `SIP;cause=${info.final.status};text="${info.final.reason.replace(/["\\]/g, '')}"` }];
  }

  /** The answering phone's connection is the caller side's (a browser's WebSocket, connection.ts). */
  private watchUser(): void {
    const winner = this.target?.winnerFlow;
    if (winner) this.call.watchConnection('caller', winner.flow, winner.moveTo);
  }
}

/** The party the user's phones are offered on behalf of: the stand-in G.711 session (no one sends on it). */
function standInLeg(): SessionLeg {
  const sdp = standInSdp();
  const usage = { sendInDialog: () => Promise.reject(new Error('click-to-call: the stand-in has no dialog')) };
  return sessionLeg({ usage, tag: STAND_IN_TAG, ownsCallId: true, allows: [], remoteSdp: sdp, localSdp: sdp });
}
