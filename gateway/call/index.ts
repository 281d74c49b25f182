// The SIP service: UA core, registrar, upstream registrations, the outbound B2BUA and the calls that
// ring users (from trunks, PBXs and other users), on top of the transaction layer.
import type { GatewayConfig, UserConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { MediaEngine } from '../media/types.js';
import { createRegistrar, type Registrar } from '../registrar/index.js';
import { createCallPolicy, type Ticket } from '../policy/index.js';
import type { RouteResult } from '../routing/index.js';
import { createDigestServer } from '../sip/auth/index.js';
import { parseUri } from '../sip/message/index.js';
import type { SipRequest } from '../sip/message/types.js';
import type { ServerTransaction, TransactionLayer } from '../sip/transaction/types.js';
import type { SipTransport } from '../sip/transport/types.js';
import { realmOf } from '../sip/ua/credentials.js';
import { reply } from '../sip/ua/uas.js';
import { createUpstream, type Upstream } from '../upstream/index.js';
import { Call, type Party } from './call.js';
import { DialCallee, type TrunkPlan } from './dial.js';
import { TrunkBoard } from './failover-board.js';
import type { TakeTrunk } from './failover.js';
import { LoadShare } from '../routing/load-share.js';
import { TransferService } from './transfer.js';
import { transferRoute } from './transfer-route.js';
import { takeOver } from './transfer-replaces.js';
import { endInactiveCalls } from './liveness.js';
import { CallTable, dialledOf, dispatchRequest } from './dispatch.js';
import { RingCallee, type InboundCaller } from './ring.js';
import { intervalTooSmall, TOO_SMALL } from './session-timers.js';
import { CALL_MACHINE, INBOUND_MACHINE } from './states.js';
import { DialogRegistry } from '../sip/ua/dialogs.js';
import { createTrunkAcl, type TrunkAcl } from './trunk-acl.js';
import { UserLines, waitingDecision } from './waiting.js';
import type { OutboundRoute } from './trunk-leg.js';
import { announceCall, type CallObserver } from './observer.js';
import { getFrom } from '../sip/message/index.js';
import type { Binding } from '../registrar/index.js';
import { clickToCall, type ClickToCallResult } from './click-to-call.js';

export { Call } from './call.js';
export { CallTable, dialledOf } from './dispatch.js';
export type { CallObserver, CallStart, CallDirection } from './observer.js';
export { clickToCallPhase, type ClickToCallResult } from './click-to-call.js';

export interface SipServiceDeps {
  config: GatewayConfig;
  transport: SipTransport;
  transactions: TransactionLayer;
  media: MediaEngine;
  logger: Logger;
  /** Test hooks: the trunk ACL and the upstream registrations (default: built from the config). */
  acl?: TrunkAcl;
  upstream?: (registrar: Registrar) => Upstream;
  /** Told of every call created (gateway/cdr, gateway/metrics; observer.ts). */
  observers?: readonly CallObserver[];
}

export interface SipServiceStatus extends Record<string, unknown> {
  registrations: number;
  calls: number;
}

export interface SipService {
  close(): Promise<void>;
  /** `{ calls, registrations, trunks, upstream }` (the last two from the upstream registrations). */
  status(): SipServiceStatus;
  /** Current contacts by the transport they registered over (metrics). */
  registrationsByTransport?(): Record<string, number>;
  /** Every registered contact (GET /api/registrations). */
  registrations?(): Binding[];
  /** POST /api/calls: ring `user`'s phones, then dial `number` (click-to-call.ts). */
  clickToCall?(user: string, number: string): ClickToCallResult;
}

/** How long close() waits for the answers to the BYEs and CANCELs of the calls it ends, ms. Together with
 *  the unregister (at most 5 s, in parallel) it fits a container's stop grace (docker-compose.yml: 15 s). */
const TEARDOWN_WAIT_MS = 4_000;

/** The user part of the INVITE's From URI (the caller's number or name), '' when it has none. */
function fromUser(tx: ServerTransaction): string {
  try {
    const uri = getFrom(tx.request).uri;
    return uri.scheme === 'tel' ? uri.host : (uri.user ?? '');
  } catch {
    return '';
  }
}

type TrunkRoute = Extract<RouteResult, { kind: 'trunk' }>;

/** upstream.outboundFor → where the user's call goes through their own PBX. */
function pbxRoute(upstream: Upstream, user: UserConfig): OutboundRoute | undefined {
  const out = upstream.outboundFor(user);
  if (!out) return undefined;
  return { base: { ...parseUri(out.fromUri), host: out.requestUriHost, user: undefined, params: {} }, from: parseUri(out.fromUri), target: out.target, credentials: out.credentials };
}

export function startSipService(deps: SipServiceDeps): SipService {
  const { config, transport, transactions, logger } = deps;
  // RFC 8760 §2.4: one challenge per algorithm, most preferred first — SHA-256, then MD5. The order also
  // suits sip.js 0.21, whose parser keeps only the LAST challenge header and whose digest is MD5-only.
  const digest = createDigestServer({ realm: realmOf(config), algorithms: ['SHA-256', 'MD5'] });
  const registrar = createRegistrar({ config, digest, logger: logger.child({ component: 'registrar' }) });
  const upstream = deps.upstream?.(registrar) ?? createUpstream({ config, transport, transactions, registrar, logger: logger.child({ component: 'upstream' }) });
  const acl = deps.acl ?? createTrunkAcl({ trunks: config.trunks, logger: logger.child({ component: 'acl' }) });
  const registry = new DialogRegistry();
  const calls = new CallTable();
  /** The calls each user is in (call waiting, waiting.ts). */
  const lines = new UserLines<Call>();
  const ended = (c: Call): void => {
    calls.remove(c);
    lines.release(c);
  };
  const callCtx = { ...deps, registry };
  /** Trunk failover state and counters (failover-board.ts; /api/status trunks[]) and load sharing. */
  const board = new TrunkBoard({ health: (name) => upstream.trunkState?.(name) });
  const loadShare = new LoadShare();
  /** Dial rules, call limits, maximum duration, spend alarm (gateway/policy). */
  const policy = createCallPolicy(config, logger.child({ component: 'policy' }));
  // Transfer (REFER, Replaces; transfer*.ts): targets go through the dial plan under the user's rights.
  const transferDial = { config, policy, pbxRoute: (u: UserConfig) => pbxRoute(upstream, u), trunkPlan: (r: TrunkRoute, u: UserConfig, take: TakeTrunk) => trunkPlan(r, u, take) };
  // A user as a blind transfer's target: rung like any call to them, unless busy (waiting.ts).
  const ringTargets = (u: UserConfig) => {
    const busy = waitingDecision(u, lines.count(u.name));
    return busy.ring ? { contacts: registrar.lookup(u.name) } : busy.final;
  };
  // A transfer put another party in a call: the users it counts for (call waiting, maxCalls) follow —
  // the transferor is free, a user transferred to is in it.
  const handedOver = (c: Call): void => {
    lines.release(c);
    lines.hold(c, Object.values(c.parties).flatMap((p) => (p?.kind === 'user' ? [p.user.name] : [])));
  };
  const transfers = new TransferService({ registry, media: deps.media, logger, calls: () => calls.all() as Call[], domain: config.sip.domain, route: (u, n) => transferRoute(transferDial, u, n), ringTargets, handedOver });
  Object.assign(callCtx, { transfers });
  let closed = false;
  const observers = deps.observers ?? [];

  function track(call: Call, started: Promise<void>): void {
    started.catch((err: Error) => {
      call.log.error({ err: err.message }, 'call setup failed');
      call.end(undefined, undefined, 'gateway');
    });
  }

  /** RFC 4028 §9: too small a Session-Expires gets 422 with our Min-SE before anything is routed. */
  function intervalOk(tx: ServerTransaction): boolean {
    const tooSmall = intervalTooSmall(tx.request, config.calls.sessionTimers);
    if (tooSmall) reply(tx, 422, TOO_SMALL, { headers: tooSmall });
    return tooSmall === undefined;
  }

  function startCall(_req: SipRequest, tx: ServerTransaction, user: UserConfig, r: RouteResult, ticket?: Ticket): void {
    if (!intervalOk(tx)) return;
    const call = new Call(callCtx, tx, { machine: CALL_MACHINE, logFields: { user: user.name } }, ended);
    call.parties.caller = { kind: 'user', user };
    if (r.kind === 'trunk') call.parties.callee = { kind: 'trunk', trunk: r.trunk };
    calls.add(call);
    const trunk = r.kind === 'trunk' ? { trunk: r.trunk.name } : {};
    announceCall(observers, call, { direction: 'outbound', callerUser: user.name, callerNumber: fromUser(tx), calleeNumber: r.number, ...trunk }, logger);
    policy.track(call, ticket);
    lines.hold(call, [user.name]);
    track(call, outbound(new DialCallee(call), user, r));
  }

  /** Echo line; else a user with their own PBX calls out through it (never the trunk routes); else the trunk. */
  function outbound(callee: DialCallee, user: UserConfig, r: RouteResult): Promise<void> {
    const call = callee.call;
    if (r.kind === 'echo') return callee.startEcho();
    // An emergency call rerouted to dialRules.emergency.trunk goes there, not through the user's PBX.
    if (user.upstream && !(r.kind === 'trunk' && policy.isEmergency(call))) {
      const route = pbxRoute(upstream, user);
      if (route) return callee.startUpstream(route, r.number);
      return Promise.resolve(call.end({ status: 503, reason: 'Service Unavailable: PBX Not Registered' }, undefined, 'gateway'));
    }
    // The route's trunks in this call's order (load sharing); each attempt takes the trunk's slot from the
    // policy (its concurrent/hourly limit) and a trunk at its limit is skipped (failover.ts).
    if (r.kind === 'trunk') return callee.startTrunks(trunkPlan(r, user, (t) => policy.takeTrunk(call, t)));
    return Promise.resolve(call.end({ status: 404, reason: 'No Route' }, undefined, 'gateway'));
  }

  /** The trunks of a matched route in the order this call tries them (routing/load-share.ts). */
  function trunkPlan(r: TrunkRoute, user: UserConfig, take: TakeTrunk): TrunkPlan {
    const names = r.route.trunks ? loadShare.order(r.route, r.route.trunks) : [r.trunk.name];
    const candidates = names.flatMap((n) => config.trunks.filter((t) => t.name === n));
    return { candidates, route: r.route, number: r.number, user, board, take };
  }

  function ringUser(tx: ServerTransaction, callee: UserConfig, caller: InboundCaller, ticket?: Ticket): void {
    if (!intervalOk(tx)) return;
    const logFields = { callee: callee.name, ...(caller.kind === 'user' ? { caller: caller.user.name } : { from: caller.source }) };
    // A user already in a call: rung again (call waiting) unless callWaiting is off or maxCalls reached.
    const busy = waitingDecision(callee, lines.count(callee.name));
    if (!busy.ring) {
      logger.info({ ...logFields, why: busy.why }, 'callee busy');
      return reply(tx, busy.final.status, busy.final.reason);
    }
    const call = new Call(callCtx, tx, { machine: INBOUND_MACHINE, logFields, network: caller.kind === 'network' }, ended);
    call.parties.callee = { kind: 'user', user: callee };
    if (caller.kind === 'user') call.parties.caller = { kind: 'user', user: caller.user };
    calls.add(call);
    lines.hold(call, caller.kind === 'user' ? [callee.name, caller.user.name] : [callee.name]);
    // trunks[].dtmf of a trunk calling in (its source address, as admission found it)
    const trunk = caller.kind === 'network' ? acl.trunkFor(tx.flow) : undefined;
    if (trunk) call.dtmf.modes.caller = trunk.dtmf;
    if (trunk) call.parties.caller = { kind: 'trunk', trunk };
    const direction = caller.kind === 'user' ? 'internal' : 'inbound';
    const callerUser = caller.kind === 'user' ? { callerUser: caller.user.name } : {};
    const dialled = { calleeNumber: dialledOf(tx.request.uri), ...(trunk && { trunk: trunk.name }) };
    announceCall(observers, call, { direction, ...callerUser, callerNumber: fromUser(tx), calleeUser: callee.name, ...dialled }, logger);
    policy.track(call, ticket);
    // A call in from a trunk holds one of its channels (trunks[].maxCalls), never refused for it.
    if (trunk) policy.inbound(call, trunk);
    track(call, new RingCallee(call, callee, caller).start(registrar.lookup(callee.name)));
  }

  // RFC 3891: an INVITE with Replaces takes over one of our calls (transfer-replaces.ts).
  const replaces = (req: SipRequest, tx: ServerTransaction, by: Party): void => takeOver({ registry, media: deps.media, logger, locate: (id) => transfers.locate(id) }, req, tx, by);
  const dispatch = { config, digest, registrar, registry, calls, acl, upstream, logger, policy, startCall, ringUser, replaces };
  transactions.onRequest((req, tx, matchingInvite) => {
    if (closed) return reply(tx, 503, 'Service Unavailable');
    try {
      dispatchRequest(dispatch, req, tx, matchingInvite);
    } catch (err) {
      // Bad input never crashes: a header the parser let through but we cannot use gets a 400 naming it.
      logger.warn({ err: (err as Error).message, method: req.method }, 'request rejected');
      if (tx.state === 'proceeding' || tx.state === 'trying') reply(tx, 400, `Bad Request: ${(err as Error).message}`.slice(0, 120));
    }
  });
  // ACKs pass even while closing: the ACK of a 2xx that raced close() releases the BYE waiting for it (§15).
  transactions.onAck((ack, flow) => registry.forRequest(ack)?.onAck(ack, flow));
  transactions.onStrayResponse((res) => {
    if (!closed) registry.forResponse(res)?.onStrayResponse(res);
  });
  upstream.start();
  const unwatchMedia = endInactiveCalls(deps.media, (id) => calls.all().find((c) => c.id === id), logger);

  return {
    async close() {
      if (closed) return;
      for (const call of calls.all()) call.end({ status: 503, reason: 'Service Unavailable' }, undefined, 'gateway');
      closed = true;
      unwatchMedia();
      policy.close();
      acl.close();
      // A graceful stop: the BYEs and CANCELs just sent get their answers (or time out) while the
      // registrations upstream are removed (REGISTER with Expires: 0), before the transport closes.
      await Promise.all([
        upstream.close().catch((err: Error) => logger.warn({ err: err.message }, 'upstream close failed')),
        // A shorter shutdown.grace (main.ts exits when it is up) leaves half of it to the answers.
        transactions.drain(Math.min(TEARDOWN_WAIT_MS, config.shutdown.grace * 500)),
      ]);
      registrar.close();
    },
    status: () => {
      const up = upstream.status();
      const trunks = up.trunks.map((t) => ({ ...t, ...board.status(t.name) }));
      return { calls: calls.size, registrations: registrar.count(), ...up, trunks, policy: policy.status() };
    },
    registrations: () => registrar.users().flatMap((u) => registrar.bindings(u)),
    clickToCall: (user, number) =>
      closed
        ? { ok: false, status: 409, error: 'the gateway is stopping' }
        : clickToCall({ config, registrar, policy, calls, lines, callCtx, observers, logger, ended, outbound: (c, u, r) => outbound(c, u, r) }, user, number),
    registrationsByTransport: () => {
      const by: Record<string, number> = {};
      for (const u of registrar.users()) for (const b of registrar.bindings(u)) by[b.transport] = (by[b.transport] ?? 0) + 1;
      return by;
    },
  };
}
