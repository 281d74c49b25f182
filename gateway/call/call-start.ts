// Starting the calls of the SIP service (index.ts): a user's call out (echo line, their own PBX, the
// trunks with load sharing and failover) and a call that rings a user (from a trunk, a PBX or a user).
import type { GatewayConfig, UserConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { CallPolicy, Ticket } from '../policy/index.js';
import type { Registrar } from '../registrar/index.js';
import type { RouteResult } from '../routing/index.js';
import type { LoadShare } from '../routing/load-share.js';
import { getFrom, parseUri } from '../sip/message/index.js';
import type { SipRequest } from '../sip/message/types.js';
import type { ServerTransaction } from '../sip/transaction/types.js';
import { reply } from '../sip/ua/uas.js';
import type { Upstream } from '../upstream/index.js';
import { Call, type CallContext } from './call.js';
import { DialCallee, type TrunkPlan } from './dial.js';
import { dialledOf, type CallTable } from './dispatch.js';
import type { TrunkBoard } from './failover-board.js';
import type { TakeTrunk } from './failover.js';
import { announceCall, type CallObserver } from './observer.js';
import { RingCallee, type InboundCaller } from './ring.js';
import { intervalTooSmall, TOO_SMALL } from './session-timers.js';
import { CALL_MACHINE, INBOUND_MACHINE } from './states.js';
import type { TrunkAcl } from './trunk-acl.js';
import type { OutboundRoute } from './trunk-leg.js';
import { waitingDecision, type UserLines } from './waiting.js';

export type TrunkRoute = Extract<RouteResult, { kind: 'trunk' }>;

/** What starting a call needs from the service (index.ts builds it once). */
export interface CallStartContext {
  config: GatewayConfig;
  logger: Logger;
  observers: readonly CallObserver[];
  callCtx: CallContext;
  calls: CallTable;
  /** The calls each user is in (call waiting, waiting.ts). */
  lines: UserLines<Call>;
  ended(call: Call): void;
  policy: CallPolicy;
  registrar: Registrar;
  upstream: Upstream;
  acl: TrunkAcl;
  board: TrunkBoard;
  loadShare: LoadShare;
}

/** The user part of the INVITE's From URI (the caller's number or name), '' when it has none. */
function fromUser(tx: ServerTransaction): string {
  try {
    const uri = getFrom(tx.request).uri;
    return uri.scheme === 'tel' ? uri.host : (uri.user ?? '');
  } catch {
    return '';
  }
}

/** upstream.outboundFor → where the user's call goes through their own PBX. */
export function pbxRoute(upstream: Upstream, user: UserConfig): OutboundRoute | undefined {
  const out = upstream.outboundFor(user);
  if (!out) return undefined;
  return { base: { ...parseUri(out.fromUri), host: out.requestUriHost, user: undefined, params: {} }, from: parseUri(out.fromUri), target: out.target, credentials: out.credentials };
}

function track(call: Call, started: Promise<void>): void {
  started.catch((err: Error) => {
    call.log.error({ err: err.message }, 'call setup failed');
    call.end(undefined, undefined, 'gateway');
  });
}

/** RFC 4028 §9: too small a Session-Expires gets 422 with our Min-SE before anything is routed. */
function intervalOk(c: CallStartContext, tx: ServerTransaction): boolean {
  const tooSmall = intervalTooSmall(tx.request, c.config.calls.sessionTimers);
  if (tooSmall) reply(tx, 422, TOO_SMALL, { headers: tooSmall });
  return tooSmall === undefined;
}

export function startCall(c: CallStartContext, _req: SipRequest, tx: ServerTransaction, user: UserConfig, r: RouteResult, ticket?: Ticket): void {
  if (!intervalOk(c, tx)) return;
  const call = new Call(c.callCtx, tx, { machine: CALL_MACHINE, logFields: { user: user.name } }, c.ended);
  call.parties.caller = { kind: 'user', user };
  if (r.kind === 'trunk') call.parties.callee = { kind: 'trunk', trunk: r.trunk };
  c.calls.add(call);
  const trunk = r.kind === 'trunk' ? { trunk: r.trunk.name } : {};
  announceCall(c.observers, call, { direction: 'outbound', callerUser: user.name, callerNumber: fromUser(tx), calleeNumber: r.number, ...trunk }, c.logger);
  c.policy.track(call, ticket);
  c.lines.hold(call, [user.name]);
  track(call, outbound(c, new DialCallee(call), user, r));
}

/** Echo line; else a user with their own PBX calls out through it (never the trunk routes); else the trunk. */
export function outbound(c: CallStartContext, callee: DialCallee, user: UserConfig, r: RouteResult): Promise<void> {
  const call = callee.call;
  if (r.kind === 'echo') return callee.startEcho();
  // An emergency call rerouted to dialRules.emergency.trunk goes there, not through the user's PBX.
  if (user.upstream && !(r.kind === 'trunk' && c.policy.isEmergency(call))) {
    const route = pbxRoute(c.upstream, user);
    if (route) return callee.startUpstream(route, r.number);
    return Promise.resolve(call.end({ status: 503, reason: 'Service Unavailable: PBX Not Registered' }, undefined, 'gateway'));
  }
  // The route's trunks in this call's order (load sharing); each attempt takes the trunk's slot from the
  // policy (its concurrent/hourly limit) and a trunk at its limit is skipped (failover.ts).
  if (r.kind === 'trunk') return callee.startTrunks(trunkPlan(c, r, user, (t) => c.policy.takeTrunk(call, t)));
  return Promise.resolve(call.end({ status: 404, reason: 'No Route' }, undefined, 'gateway'));
}

/** The trunks of a matched route in the order this call tries them (routing/load-share.ts). */
export function trunkPlan(c: CallStartContext, r: TrunkRoute, user: UserConfig, take: TakeTrunk): TrunkPlan {
  const names = r.route.trunks ? c.loadShare.order(r.route, r.route.trunks) : [r.trunk.name];
  const candidates = names.flatMap((n) => c.config.trunks.filter((t) => t.name === n));
  return { candidates, route: r.route, number: r.number, user, board: c.board, take };
}

export function ringUser(c: CallStartContext, tx: ServerTransaction, callee: UserConfig, caller: InboundCaller, ticket?: Ticket): void {
  if (!intervalOk(c, tx)) return;
  const logFields = { callee: callee.name, ...(caller.kind === 'user' ? { caller: caller.user.name } : { from: caller.source }) };
  // A user already in a call: rung again (call waiting) unless callWaiting is off or maxCalls reached.
  const busy = waitingDecision(callee, c.lines.count(callee.name));
  if (!busy.ring) {
    c.logger.info({ ...logFields, why: busy.why }, 'callee busy');
    return reply(tx, busy.final.status, busy.final.reason);
  }
  const call = new Call(c.callCtx, tx, { machine: INBOUND_MACHINE, logFields, network: caller.kind === 'network' }, c.ended);
  call.parties.callee = { kind: 'user', user: callee };
  if (caller.kind === 'user') call.parties.caller = { kind: 'user', user: caller.user };
  c.calls.add(call);
  c.lines.hold(call, caller.kind === 'user' ? [callee.name, caller.user.name] : [callee.name]);
  // trunks[].dtmf of a trunk calling in (its source address, as admission found it)
  const trunk = caller.kind === 'network' ? c.acl.trunkFor(tx.flow) : undefined;
  if (trunk) call.dtmf.modes.caller = trunk.dtmf;
  if (trunk) call.parties.caller = { kind: 'trunk', trunk };
  const direction = caller.kind === 'user' ? 'internal' : 'inbound';
  const callerUser = caller.kind === 'user' ? { callerUser: caller.user.name } : {};
  const dialled = { calleeNumber: dialledOf(tx.request.uri), ...(trunk && { trunk: trunk.name }) };
  announceCall(c.observers, call, { direction, ...callerUser, callerNumber: fromUser(tx), calleeUser: callee.name, ...dialled }, c.logger);
  c.policy.track(call, ticket);
  // A call in from a trunk holds one of its channels (trunks[].maxCalls), never refused for it.
  if (trunk) c.policy.inbound(call, trunk);
  track(call, new RingCallee(call, callee, caller).start(c.registrar.lookup(callee.name)));
}
