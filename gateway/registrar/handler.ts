// REGISTER processing (RFC 3261 §10.3): domain, digest authentication, authorization, contacts.
import type { GatewayConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { DigestServer } from '../sip/auth/index.js';
import { getCallId, getCSeq, getTo, parseUri } from '../sip/message/index.js';
import type { SipRequest } from '../sip/message/types.js';
import type { ServerTransaction } from '../sip/transaction/types.js';
import { accountOf, challengeOrder, credentialsFor, passwordLookup } from '../sip/ua/credentials.js';
import { answerUnauthenticated, bareResponse, challengeStatelessly } from '../sip/ua/challenge.js';
import { reply } from '../sip/ua/uas.js';
import { applyPlan, contactList } from './apply.js';
import type { BindingStore } from './bindings.js';
import { planContacts } from './contacts.js';

export interface HandlerDeps {
  config: GatewayConfig;
  digest: DigestServer;
  logger: Logger;
  store: BindingStore;
  now: () => number;
  maxContacts: number;
}

type PasswordLookup = ReturnType<typeof passwordLookup>;

function hostOnly(host: string): string {
  return host.toLowerCase().replace(/\.$/, '');
}

/** §10.3 steps 1-5: the authenticated user name, or undefined once answered. */
function authorize(d: HandlerDeps, lookupPassword: PasswordLookup, req: SipRequest, tx: ServerTransaction): string | undefined {
  const domain = d.config.sip.domain;
  // §10.3 step 1: "The registrar inspects the Request-URI to determine whether it has access to bindings
  // for the domain identified in the Request-URI." Only enforced when a domain is configured; the same
  // answer for every user, before any credentials are looked at.
  if (domain !== undefined && hostOnly(parseUri(req.uri).host) !== hostOnly(domain)) {
    answerUnauthenticated(tx, bareResponse(tx, 404, 'Domain Not Served'));
    return undefined;
  }
  // §10.3 step 3: "A registrar SHOULD authenticate the UAC." (§22.1: 401 with WWW-Authenticate). An unknown
  // user and a wrong password fail alike inside verify(): same work, same 401, same headers — a SIP
  // scanner (friendly-scanner, sipvicious svwar) cannot tell which user names exist.
  const authz = credentialsFor(req, d.digest.realm, 'Authorization');
  const auth = d.digest.verify(req.method, req.uri, authz, lookupPassword);
  if (!auth.ok) {
    d.logger.debug({ reason: auth.reason }, 'REGISTER challenged');
    // Stateless and once (sip/ua/challenge.ts): an unauthenticated REGISTER keeps no server transaction.
    const challenges = challengeOrder(tx.flow.transport, d.digest.challenge({ stale: auth.stale }));
    challengeStatelessly(tx, 401, 'WWW-Authenticate', challenges);
    return undefined;
  }
  // §10.3 step 4: "The registrar SHOULD determine if the authenticated user is authorized to modify
  // registrations for this address-of-record. … If the authenticated user is not authorized to modify
  // bindings, the registrar MUST return a 403 (Forbidden)" — a user registers only their own AOR.
  const aor = getTo(req).uri;
  // A device token's digest user name (http/device-tokens.ts) acts for the account it was issued to.
  const account = accountOf(d.config, auth.username);
  if (account === undefined || aor.user !== account) {
    reply(tx, 403, 'Forbidden: not your address-of-record');
    return undefined;
  }
  // §10.3 step 5: "If the address-of-record is not valid for the domain in the Request-URI, the registrar
  // MUST send a 404 (Not Found) response".
  if (domain !== undefined && hostOnly(aor.host) !== hostOnly(domain)) {
    reply(tx, 404, 'Not Found');
    return undefined;
  }
  return account;
}

/** §10.3 steps 6-8 for an authorized user. */
function apply(d: HandlerDeps, req: SipRequest, tx: ServerTransaction, user: string): void {
  const { minExpires, maxExpires } = d.config.registrar;
  const plan = planContacts(req, { min: minExpires, max: maxExpires });
  if (plan.kind === 'error') return reply(tx, plan.status, plan.reason, { headers: plan.headers });
  const now = d.now();
  const ctx = {
    user, callId: getCallId(req), cseq: getCSeq(req).seq, flow: tx.flow, source: tx.flow.remote, now, maxContacts: d.maxContacts,
  };
  const result = applyPlan(d.store.list(user), plan, ctx);
  if (!result.ok) return reply(tx, result.status, result.reason, { headers: result.headers });
  d.store.replace(user, result.bindings);
  const current = d.store.list(user);
  // debug, not info: one line per REGISTER costs more CPU than the registration itself at carrier rates.
  d.logger.debug({ user, contacts: current.length, transport: tx.flow.transport, source: tx.flow.remote }, 'registration updated');
  // §10.3 step 8: the 200 lists every current binding; "The response SHOULD include a Date header field."
  const headers = [...contactList(current, now), { name: 'Date', value: new Date(now).toUTCString() }];
  reply(tx, 200, 'OK', { headers });
}

/** Answers one REGISTER. Throws only on headers the parser accepted but we cannot use (caller → 400). */
export function createRegisterHandler(d: HandlerDeps): (req: SipRequest, tx: ServerTransaction) => void {
  const lookupPassword = passwordLookup(d.config);
  return (req, tx) => {
    const user = authorize(d, lookupPassword, req, tx);
    if (user !== undefined) apply(d, req, tx, user);
  };
}
