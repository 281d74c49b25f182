// The UA core's request dispatch (RFC 3261 §8.2): validate, then route by dialog and method.
import type { GatewayConfig, UserConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { Registrar } from '../registrar/index.js';
import { route, type RouteResult } from '../routing/index.js';
import type { DigestServer } from '../sip/auth/index.js';
import { getHeader, getTo, parseUri } from '../sip/message/index.js';
import type { SipRequest } from '../sip/message/types.js';
import type { ServerTransaction } from '../sip/transaction/types.js';
import { optionsReply, reply, validateRequest } from '../sip/ua/uas.js';
import { authenticateInvite } from './authorize.js';
import type { Call } from './call.js';
import type { DialogRegistry } from './registry.js';

/** The calls in progress, findable by their browser INVITE's server transaction (for CANCEL). */
export class CallTable {
  private readonly byInvite = new Map<ServerTransaction, Call>();

  add(call: Call): void {
    this.byInvite.set(call.browser.tx, call);
  }

  remove(call: Call): void {
    this.byInvite.delete(call.browser.tx);
  }

  forInvite(tx: ServerTransaction): Call | undefined {
    return this.byInvite.get(tx);
  }

  all(): Call[] {
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
  logger: Logger;
  /** Creates and starts the call for an authenticated, routed INVITE. */
  startCall(req: SipRequest, tx: ServerTransaction, user: UserConfig, r: RouteResult): void;
}

/** The dialled string: the Request-URI user part (unescaped by the parser), or a tel: URI's number. */
export function dialledOf(requestUri: string): string {
  const uri = parseUri(requestUri);
  return uri.scheme === 'tel' ? uri.host : (uri.user ?? '');
}

export function dispatchRequest(d: DispatchDeps, req: SipRequest, tx: ServerTransaction, matchingInvite?: ServerTransaction): void {
  const bad = validateRequest(req);
  if (bad) return reply(tx, bad.status, bad.reason, { headers: bad.headers });
  if (req.method === 'CANCEL') return cancel(d, tx, matchingInvite);
  // §12.2.2: a request with a To tag belongs to a dialog; "If the UAS … does not recognize … the dialog
  // … it SHOULD generate a 481 (Call/Transaction Does Not Exist) response".
  if (getTo(req).params.tag !== undefined) {
    const owner = d.registry.forRequest(req);
    if (!owner) return reply(tx, 481, 'Call/Transaction Does Not Exist');
    return owner.onRequest(req, tx);
  }
  switch (req.method) {
    case 'REGISTER':
      return d.registrar.handle(req, tx);
    case 'OPTIONS':
      return tx.respond(optionsReply(req));
    case 'INVITE':
      return invite(d, req, tx);
    default:
      // BYE (and anything else) outside a dialog.
      return reply(tx, 481, 'Call/Transaction Does Not Exist');
  }
}

function invite(d: DispatchDeps, req: SipRequest, tx: ServerTransaction): void {
  const user = authenticateInvite(req, tx, d);
  if (!user) return;
  const r = route(dialledOf(req.uri), d.config);
  if (r.kind === 'none') {
    d.logger.info({ user: user.name, number: r.number }, 'no route');
    return reply(tx, 404, 'No Route');
  }
  // RFC 3261 §13.2.1 lets the offer wait for the 2xx; this gateway needs it in the INVITE (RFC 3264 §5).
  const type = getHeader(req, 'Content-Type')?.split(';')[0]?.trim().toLowerCase();
  if (req.body.length === 0 || type !== 'application/sdp') return reply(tx, 488, 'Not Acceptable Here: SDP Offer Required');
  d.startCall(req, tx, user, r);
}

/** RFC 3261 §9.2: "If the UAS did not find a matching transaction for the CANCEL … it SHOULD respond to
 *  the CANCEL with a 481". Otherwise 200 to the CANCEL and, if still unanswered, 487 to the INVITE. */
function cancel(d: DispatchDeps, tx: ServerTransaction, matchingInvite: ServerTransaction | undefined): void {
  if (!matchingInvite) return reply(tx, 481, 'Call/Transaction Does Not Exist');
  const call = d.calls.forInvite(matchingInvite);
  // §9.2: "The To tag of the response to the CANCEL and the response to the original request SHOULD be the same."
  reply(tx, 200, 'OK', { toTag: call?.browser.localTag });
  if (call) return call.cancel();
  if (matchingInvite.state === 'proceeding') reply(matchingInvite, 487, 'Request Terminated');
}
