// The SIP service: UA core, registrar, upstream registrations, the outbound B2BUA and the calls that
// ring users (from trunks, PBXs and other users), on top of the transaction layer.
import type { GatewayConfig, UserConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { MediaEngine } from '../media/types.js';
import { createRegistrar, type Registrar } from '../registrar/index.js';
import { createCallPolicy, type Ticket } from '../policy/index.js';
import type { RouteResult } from '../routing/index.js';
import { createDigestServer, type DigestServer } from '../sip/auth/index.js';
import type { SipRequest } from '../sip/message/types.js';
import type { ServerTransaction, TransactionLayer } from '../sip/transaction/types.js';
import type { SipTransport } from '../sip/transport/types.js';
import { realmOf } from '../sip/ua/credentials.js';
import { reply } from '../sip/ua/uas.js';
import { createUpstream, type Upstream } from '../upstream/index.js';
import { Call, type CallContext, type Party } from './call.js';
import { outbound, pbxRoute, ringUser as ringUserFor, startCall as startCallFor, trunkPlan, type CallStartContext, type TrunkRoute } from './call-start.js';
import { TrunkBoard } from './failover-board.js';
import type { TakeTrunk } from './failover.js';
import { LoadShare } from '../routing/load-share.js';
import { TransferService } from './transfer.js';
import { transferRoute } from './transfer-route.js';
import { takeOver } from './transfer-replaces.js';
import { endInactiveCalls } from './liveness.js';
import { CallTable, dispatchRequest } from './dispatch.js';
import type { InboundCaller } from './ring.js';
import { DialogRegistry } from '../sip/ua/dialogs.js';
import { createTrunkAcl, type TrunkAcl } from './trunk-acl.js';
import { UserLines, waitingDecision } from './waiting.js';
import type { CallObserver } from './observer.js';
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

/** The service's parts (built once by buildParts); `state.closed` is set by close(): requests get 503. */
interface ServiceParts extends CallStartContext {
  digest: DigestServer;
  registry: DialogRegistry;
  transfers: TransferService;
  state: { closed: boolean };
}

function buildParts(deps: SipServiceDeps): ServiceParts {
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
  const callCtx: CallContext = { ...deps, registry };
  /** Trunk failover state and counters (failover-board.ts; /api/status trunks[]) and load sharing. */
  const board = new TrunkBoard({ health: (name) => upstream.trunkState?.(name) });
  const loadShare = new LoadShare();
  /** Dial rules, call limits, maximum duration, spend alarm (gateway/policy). */
  const policy = createCallPolicy(config, logger.child({ component: 'policy' }));
  const observers = deps.observers ?? [];
  const start = { config, logger, observers, callCtx, calls, lines, ended, policy, registrar, upstream, acl, board, loadShare };
  const transfers = createTransfers(deps, start);
  Object.assign(callCtx, { transfers });
  return { ...start, digest, registry, transfers, state: { closed: false } };
}

/** Transfer (REFER, Replaces; transfer*.ts): targets go through the dial plan under the user's rights. */
function createTransfers(deps: SipServiceDeps, p: CallStartContext): TransferService {
  const { config, logger } = deps;
  const { policy, upstream, lines, registrar, calls } = p;
  const transferDial = { config, policy, pbxRoute: (u: UserConfig) => pbxRoute(upstream, u), trunkPlan: (r: TrunkRoute, u: UserConfig, take: TakeTrunk) => trunkPlan(p, r, u, take) };
  // A user as a blind transfer's target: rung like any call to them, unless busy (waiting.ts).
  const ringTargets = (u: UserConfig) => {
    const busy = waitingDecision(u, lines.count(u.name));
    return busy.ring ? { contacts: registrar.lookup(u.name) } : busy.final;
  };
  // A transfer put another party in a call: the users it counts for (call waiting, maxCalls) follow —
  // the transferor is free, a user transferred to is in it.
  const handedOver = (c: Call): void => {
    lines.release(c);
    lines.hold(c, Object.values(c.parties).flatMap((party) => (party?.kind === 'user' ? [party.user.name] : [])));
  };
  const registry = p.callCtx.registry;
  return new TransferService({ registry, media: deps.media, logger, calls: () => calls.all() as Call[], domain: config.sip.domain, route: (u, n) => transferRoute(transferDial, u, n), ringTargets, handedOver });
}

/** Requests, ACKs and stray responses from the transaction layer to the dispatcher and the dialogs. */
function wireRequests(deps: SipServiceDeps, p: ServiceParts): void {
  const { transactions, logger } = deps;
  const { config, digest, registrar, registry, calls, acl, upstream, policy, transfers, state } = p;
  const startCall = (req: SipRequest, tx: ServerTransaction, user: UserConfig, r: RouteResult, ticket?: Ticket): void => startCallFor(p, req, tx, user, r, ticket);
  const ringUser = (tx: ServerTransaction, callee: UserConfig, caller: InboundCaller, ticket?: Ticket): void => ringUserFor(p, tx, callee, caller, ticket);
  // RFC 3891: an INVITE with Replaces takes over one of our calls (transfer-replaces.ts).
  const replaces = (req: SipRequest, tx: ServerTransaction, by: Party): void => takeOver({ registry, media: deps.media, logger, locate: (id) => transfers.locate(id) }, req, tx, by);
  const dispatch = { config, digest, registrar, registry, calls, acl, upstream, logger, policy, startCall, ringUser, replaces };
  transactions.onRequest((req, tx, matchingInvite) => {
    if (state.closed) return reply(tx, 503, 'Service Unavailable');
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
    if (!state.closed) registry.forResponse(res)?.onStrayResponse(res);
  });
}

/** Ends every call, stops the policy, ACL and media watch, unregisters upstream while the answers arrive. */
async function closeService(deps: SipServiceDeps, p: ServiceParts, unwatchMedia: () => void): Promise<void> {
  const { config, transactions, logger } = deps;
  if (p.state.closed) return;
  for (const call of p.calls.all()) call.end({ status: 503, reason: 'Service Unavailable' }, undefined, 'gateway');
  p.state.closed = true;
  unwatchMedia();
  p.policy.close();
  p.acl.close();
  // A graceful stop: the BYEs and CANCELs just sent get their answers (or time out) while the
  // registrations upstream are removed (REGISTER with Expires: 0), before the transport closes.
  await Promise.all([
    p.upstream.close().catch((err: Error) => logger.warn({ err: err.message }, 'upstream close failed')),
    // A shorter shutdown.grace (main.ts exits when it is up) leaves half of it to the answers.
    transactions.drain(Math.min(TEARDOWN_WAIT_MS, config.shutdown.grace * 500)),
  ]);
  p.registrar.close();
}

export function startSipService(deps: SipServiceDeps): SipService {
  const p = buildParts(deps);
  const { config, logger } = deps;
  const { registrar, upstream, board, calls, policy, lines, callCtx, observers, ended, state } = p;
  wireRequests(deps, p);
  upstream.start();
  const unwatchMedia = endInactiveCalls(deps.media, (id) => calls.all().find((c) => c.id === id), logger);

  return {
    close: () => closeService(deps, p, unwatchMedia),
    status: () => {
      const up = upstream.status();
      const trunks = up.trunks.map((t) => ({ ...t, ...board.status(t.name) }));
      return { calls: calls.size, registrations: registrar.count(), ...up, trunks, policy: policy.status() };
    },
    registrations: () => registrar.users().flatMap((u) => registrar.bindings(u)),
    clickToCall: (user, number) =>
      state.closed
        ? { ok: false, status: 409, error: 'the gateway is stopping' }
        : clickToCall({ config, registrar, policy, calls, lines, callCtx, observers, logger, ended, outbound: (c, u, r) => outbound(p, c, u, r) }, user, number),
    registrationsByTransport: () => {
      const by: Record<string, number> = {};
      for (const u of registrar.users()) for (const b of registrar.bindings(u)) by[b.transport] = (by[b.transport] ?? 0) + 1;
      return by;
    },
  };
}
