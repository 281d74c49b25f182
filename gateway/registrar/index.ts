// A minimal registrar (RFC 3261 §10.3): digest-authenticated REGISTER, bindings in memory per user.
import type { Logger } from '../log.js';
import type { GatewayConfig } from '../config/schema.js';
import type { DigestServer } from '../sip/auth/index.js';
import { formatUri, getCallId, getCSeq, getTo, parseUri } from '../sip/message/index.js';
import type { NameAddr, SipRequest } from '../sip/message/types.js';
import type { ServerTransaction } from '../sip/transaction/types.js';
import { credentialsFor, passwordLookup } from '../sip/ua/credentials.js';
import { reply } from '../sip/ua/uas.js';
import { BindingStore, type Binding } from './bindings.js';
import { planContacts, type ContactPlan } from './contacts.js';

export { BindingStore, contactKey, type Binding } from './bindings.js';

export const MIN_EXPIRES = 60;
export const MAX_EXPIRES = 3600;

export interface RegistrarDeps {
  config: GatewayConfig;
  digest: DigestServer;
  logger: Logger;
  now?: () => number;
}

export interface Registrar {
  /** Handle a REGISTER on its server transaction (always answers). */
  handle(req: SipRequest, tx: ServerTransaction): void;
  bindings(user: string): Binding[];
  count(): number;
  close(): void;
}

function hostOnly(host: string): string {
  return host.toLowerCase().replace(/\.$/, '');
}

export function createRegistrar(deps: RegistrarDeps): Registrar {
  const now = deps.now ?? Date.now;
  const store = new BindingStore(now);
  const lookup = passwordLookup(deps.config);
  const domain = deps.config.sip.domain;

  function handle(req: SipRequest, tx: ServerTransaction): void {
    // §10.3 step 1: "The registrar inspects the Request-URI to determine whether it has access to bindings
    // for the domain identified in the Request-URI." Only enforced when a domain is configured.
    if (domain !== undefined && hostOnly(parseUri(req.uri).host) !== hostOnly(domain)) {
      return reply(tx, 404, 'Domain Not Served');
    }
    // §10.3 step 3: "A registrar SHOULD authenticate the UAC." (§22.1: 401 with WWW-Authenticate)
    const auth = deps.digest.verify(req.method, req.uri, credentialsFor(req, deps.digest.realm, 'Authorization'), lookup);
    if (!auth.ok) {
      deps.logger.debug({ reason: auth.reason }, 'REGISTER challenged');
      const headers = deps.digest.challenge({ stale: auth.stale }).map((value) => ({ name: 'WWW-Authenticate', value }));
      return reply(tx, 401, 'Unauthorized', { headers });
    }
    // §10.3 step 4: "The registrar SHOULD determine if the authenticated user is authorized to modify
    // registrations for this address-of-record" — only their own AOR.
    const aor = getTo(req).uri;
    if (aor.user !== auth.username) return reply(tx, 403, 'Forbidden: not your address-of-record');
    if (domain !== undefined && hostOnly(aor.host) !== hostOnly(domain)) return reply(tx, 404, 'Not Found');
    apply(req, tx, auth.username);
  }

  function apply(req: SipRequest, tx: ServerTransaction, user: string): void {
    const plan = planContacts(req, { min: MIN_EXPIRES, max: MAX_EXPIRES });
    if (plan.kind === 'error') return reply(tx, plan.status, plan.reason, { headers: plan.headers });
    const callId = getCallId(req);
    const cseq = getCSeq(req).seq;
    if (plan.kind === 'remove-all') {
      // §10.3 step 6: "*" removes every binding whose Call-ID differs or whose CSeq is lower.
      store.removeAll(user);
    } else {
      const stale = applyContacts(plan, user, callId, cseq, tx);
      if (stale) return reply(tx, 500, 'Server Internal Error: out-of-order REGISTER');
    }
    deps.logger.info({ user, bindings: store.list(user).length }, 'registration updated');
    reply(tx, 200, 'OK', { headers: contactList(store.list(user), now()) });
  }

  /** §10.3 step 7, per contact: "If the binding does exist, the registrar checks the Call-ID value. If
   *  [it is the same], the registrar compares the CSeq value. If the value is higher than that of the
   *  existing binding, it MUST update or remove the binding as above. If not, the update MUST be aborted
   *  and the request fails." Returns true when the request must fail. */
  function applyContacts(plan: Extract<ContactPlan, { kind: 'update' }>, user: string, callId: string, cseq: number, tx: ServerTransaction): boolean {
    const outOfOrder = plan.contacts.some(({ contact }) => {
      const old = store.get(user, contact.uri);
      return old !== undefined && old.callId === callId && cseq <= old.cseq;
    });
    if (outOfOrder) return true;
    for (const { contact, expires } of plan.contacts) {
      if (expires === 0) store.remove(user, contact.uri);
      else store.put(binding(user, contact, expires, callId, cseq, tx));
    }
    return false;
  }

  function binding(user: string, contact: NameAddr, expires: number, callId: string, cseq: number, tx: ServerTransaction): Binding {
    return { user, contact: contact.uri, contactText: formatUri(contact.uri), flow: tx.flow, expiresAt: now() + expires * 1000, callId, cseq };
  }

  return {
    handle(req, tx) {
      try {
        handle(req, tx);
      } catch (err) {
        deps.logger.warn({ err }, 'bad REGISTER');
        reply(tx, 400, `Bad Request: ${(err as Error).message}`.slice(0, 120));
      }
    },
    bindings: (user) => store.list(user),
    count: () => store.count(),
    close: () => store.close(),
  };
}

/** §10.3 step 8: "The response SHOULD include a Contact header field value enumerating all current
 *  bindings. Each Contact value MUST feature an "expires" parameter indicating its expiration interval". */
function contactList(bindings: Binding[], now: number) {
  return bindings.map((b) => ({
    name: 'Contact',
    value: `<${b.contactText}>;expires=${Math.max(0, Math.round((b.expiresAt - now) / 1000))}`,
  }));
}
