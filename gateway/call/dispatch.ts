// The UA core's request dispatch (RFC 3261 §8.2): validate, then route by dialog and method.
import type { GatewayConfig, UserConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { Registrar } from '../registrar/index.js';
import { routeFromUser, type RouteResult } from '../routing/index.js';
import type { DigestServer } from '../sip/auth/index.js';
import { getHeader, getTo, parseUri } from '../sip/message/index.js';
import type { SipRequest } from '../sip/message/types.js';
import type { ServerTransaction } from '../sip/transaction/types.js';
import { ALLOWED_METHODS, optionsReply, reply, validateRequest } from '../sip/ua/uas.js';
import { answerUnauthenticated, bareResponse } from '../sip/ua/challenge.js';
import type { CallPolicy, Ticket } from '../policy/index.js';
import { admitInvite, type InboundMatcher } from './admission.js';
import { authenticateInvite } from './authorize.js';
import type { Call, Party } from './call.js';
import type { InboundCaller } from './ring.js';
import type { DialogRegistry } from '../sip/ua/dialogs.js';
import type { TrunkAcl } from './trunk-acl.js';

/** A call in progress as the dispatcher sees it: its caller side (we are its UAS), CANCEL and teardown. */
export type ActiveCall = Pick<Call, 'id' | 'ended' | 'caller' | 'cancel' | 'end'>;

/** The calls in progress, keyed by their caller's INVITE server transaction (a CANCEL matches it, §9.2). */
export class CallTable {
  private readonly byInvite = new Map<ServerTransaction, ActiveCall>();

  add(call: ActiveCall): void {
    this.byInvite.set(call.caller.tx, call);
  }

  remove(call: ActiveCall): void {
    this.byInvite.delete(call.caller.tx);
  }

  forInvite(tx: ServerTransaction): ActiveCall | undefined {
    return this.byInvite.get(tx);
  }

  all(): ActiveCall[] {
    return [...this.byInvite.values()];
  }

  get size(): number {
    return this.byInvite.size;
  }
}

export interface DispatchDeps {
  config: GatewayConfig;
  digest: DigestServer;
  registrar: Registrar;
  registry: DialogRegistry;
  calls: CallTable;
  acl: Pick<TrunkAcl, 'trunkFor'>;
  upstream?: InboundMatcher;
  logger: Logger;
  /** Dial rules and limits (gateway/policy): a user's call is admitted, or refused with the rule named. */
  policy?: Pick<CallPolicy, 'route' | 'admit' | 'settle'>;
  /** Creates and starts the call for an authenticated, routed INVITE (echo, trunk, PBX); the policy's
   *  `ticket` goes with the call (policy.track). */
  startCall(req: SipRequest, tx: ServerTransaction, user: UserConfig, r: RouteResult, ticket?: Ticket): void;
  /** Creates and starts a call that rings every contact of `callee`. */
  ringUser(tx: ServerTransaction, callee: UserConfig, caller: InboundCaller, ticket?: Ticket): void;
  /** RFC 3891: an INVITE with Replaces from `by` takes over a call (call/transfer-replaces.ts). */
  replaces?(req: SipRequest, tx: ServerTransaction, by: Party): void;
}

/** The dialled string: the Request-URI user part (unescaped by the parser), or a tel: URI's number. */
export function dialledOf(requestUri: string): string {
  const uri = parseUri(requestUri);
  return uri.scheme === 'tel' ? uri.host : (uri.user ?? '');
}

export function dispatchRequest(d: DispatchDeps, req: SipRequest, tx: ServerTransaction, matchingInvite?: ServerTransaction): void {
  // Answers before any authentication go statelessly, once, and over UDP within the request's size
  // (sip/ua/challenge.ts answerUnauthenticated: no amplification, issue 8).
  const bad = validateRequest(req);
  if (bad) return answerUnauthenticated(tx, bareResponse(tx, bad.status, bad.reason, bad.headers));
  if (req.method === 'CANCEL') return cancel(d, tx, matchingInvite);
  // §12.2.2: a request with a To tag belongs to a dialog; "If the UAS … does not recognize … the dialog
  // … it SHOULD generate a 481 (Call/Transaction Does Not Exist) response".
  if (getTo(req).params.tag !== undefined) {
    const owner = d.registry.forRequest(req);
    if (!owner) return answerUnauthenticated(tx, bareResponse(tx, 481, 'Call/Transaction Does Not Exist'));
    return owner.onRequest(req, tx);
  }
  switch (req.method) {
    case 'REGISTER':
      return d.registrar.handle(req, tx);
    case 'OPTIONS':
      // Out of dialog, unauthenticated: answered statelessly (sl_send_reply), so an OPTIONS flood cannot
      // fill the server-transaction table (a retransmission is simply answered again).
      // Over UDP a phone's keep-alive OPTIONS gets the leaner 200 when the full one would not fit in it.
      return answerUnauthenticated(tx, optionsReply(req), bareResponse(tx, 200, 'OK', [{ name: 'Allow', value: ALLOWED_METHODS.join(', ') }]), bareResponse(tx, 200, 'OK'));
    case 'INVITE':
      return invite(d, req, tx);
    default:
      // BYE (and anything else) outside a dialog.
      return answerUnauthenticated(tx, bareResponse(tx, 481, 'Call/Transaction Does Not Exist'));
  }
}

/** RFC 3261 §13.2.1 lets the offer wait for the 2xx (late offer: the callee side then offers, dial.ts /
 *  ring.ts); a body that is not SDP is no offer we can use. */
function usableBody(req: SipRequest): boolean {
  const type = getHeader(req, 'Content-Type')?.split(';')[0]?.trim().toLowerCase();
  return req.body.length === 0 || type === 'application/sdp';
}

const NO_OFFER = 'Not Acceptable Here: SDP Offer Required';

/** The dialled number: the Request-URI user part — except for a call a registered trunk delivers to our
 *  registration's Contact (RFC 3261 §10: the Request-URI is then our Contact token), where the number the
 *  caller dialled (the DID) is the To URI's user part. */
function dialledNumber(d: DispatchDeps, req: SipRequest): string {
  if (!d.upstream?.isTrunkContact(req)) return dialledOf(req.uri);
  try {
    return getTo(req).uri.user ?? '';
  } catch {
    return '';
  }
}

/** RFC 3891 §3: who sends an INVITE with Replaces — a trunk by its address, else a user after the usual
 *  challenge — is checked before the dialog it names is looked at. */
function replacing(d: DispatchDeps, req: SipRequest, tx: ServerTransaction): void {
  const trunk = d.acl.trunkFor(tx.flow);
  if (trunk) return d.replaces!(req, tx, { kind: 'trunk', trunk });
  const user = authenticateInvite(req, tx, d);
  if (user) d.replaces!(req, tx, { kind: 'user', user });
}

function invite(d: DispatchDeps, req: SipRequest, tx: ServerTransaction): void {
  if (d.replaces && getHeader(req, 'Replaces') !== undefined) return replacing(d, req, tx);
  const dialled = dialledNumber(d, req);
  const admission = admitInvite(d, req, tx.flow, dialled);
  if (admission.kind === 'reject') {
    d.logger.info({ from: tx.flow.remote.address, dialled, status: admission.status }, 'INVITE refused');
    return answerUnauthenticated(tx, bareResponse(tx, admission.status, admission.reason));
  }
  if (admission.kind === 'ring') {
    if (!usableBody(req)) return reply(tx, 488, NO_OFFER);
    return d.ringUser(tx, admission.callee, admission.caller);
  }
  const user = authenticateInvite(req, tx, d);
  if (!user) return;
  const routed = routeFromUser(dialled, d.config);
  // An emergency number goes where dialRules.emergency names, whatever the routes say.
  const r = d.policy ? d.policy.route(routed) : routed;
  // A user with their own PBX sends any number that is not local through it (never an empty one).
  if (r.kind === 'none' && (!user.upstream || r.number === '')) {
    d.logger.info({ user: user.name, number: r.number }, 'no route');
    return reply(tx, 404, 'No Route');
  }
  if (!usableBody(req) || (r.kind === 'echo' && req.body.length === 0)) return reply(tx, 488, NO_OFFER);
  // Dial rules (class, the user's limits; gateway/policy): refused with the rule named, logged there.
  const admitted = d.policy?.admit(user, r);
  if (admitted && !admitted.ok) return reply(tx, admitted.status, admitted.reason);
  const ticket = admitted?.ticket;
  if (r.kind === 'user') d.ringUser(tx, r.user, { kind: 'user', user }, ticket);
  else d.startCall(req, tx, user, r, ticket);
  // A call refused before it started (422, callee busy …) gives the user's slot back.
  if (ticket) d.policy?.settle(ticket);
}

/** RFC 3261 §9.2: "If the UAS did not find a matching transaction for the CANCEL … it SHOULD respond to
 *  the CANCEL with a 481". Otherwise 200 to the CANCEL and, if still unanswered, 487 to the INVITE. */
function cancel(d: DispatchDeps, tx: ServerTransaction, matchingInvite: ServerTransaction | undefined): void {
  if (!matchingInvite) return answerUnauthenticated(tx, bareResponse(tx, 481, 'Call/Transaction Does Not Exist'));
  const call = d.calls.forInvite(matchingInvite);
  // §9.2: "The To tag of the response to the CANCEL and the response to the original request SHOULD be the same."
  reply(tx, 200, 'OK', { toTag: call?.caller.localTag });
  if (call) return call.cancel();
  if (matchingInvite.state === 'proceeding') reply(matchingInvite, 487, 'Request Terminated');
}
