// Applying one REGISTER's contact plan to a user's current bindings (RFC 3261 §10.3 steps 6-7); pure.
import { formatUri } from '../sip/message/index.js';
import type { HeaderField } from '../sip/message/types.js';
import type { Address, Flow } from '../sip/transport/types.js';
import { contactKey } from './bindings.js';
import { instanceOf, type ContactPlan } from './contacts.js';
import type { Binding } from './types.js';

/** What the REGISTER itself contributes to a binding. */
export interface RegisterContext {
  user: string;
  callId: string;
  cseq: number;
  flow: Flow;
  /** Source address of the REGISTER (received/rport). */
  source: Address;
  now: number;
  maxContacts: number;
}

export type ApplyResult =
  | { ok: true; bindings: Binding[] }
  | { ok: false; status: number; reason: string; headers?: HeaderField[] };

const OUT_OF_ORDER: ApplyResult = { ok: false, status: 500, reason: 'Server Internal Error: out-of-order REGISTER' };

/** §10.3 step 7 (and step 6 for "*"): "If the binding does exist, the registrar checks the Call-ID value.
 *  If the Call-ID value in the existing binding differs from the Call-ID value in the request, the binding
 *  MUST be removed if the expiration time is zero and updated otherwise. If they are the same, the
 *  registrar compares the CSeq value. If the value is higher than that of the existing binding, it MUST
 *  update or remove the binding as above. If not, the update MUST be aborted and the request fails." */
function outOfOrder(old: Binding, ctx: RegisterContext): boolean {
  return old.callId === ctx.callId && ctx.cseq <= old.cseq;
}

export function applyPlan(current: Binding[], plan: Exclude<ContactPlan, { kind: 'error' }>, ctx: RegisterContext): ApplyResult {
  if (plan.kind === 'remove-all') {
    // §10.3 step 6: for "*", "the registrar checks whether the Call-ID agrees with the value stored for
    // each binding. If not, it MUST remove the binding. If it does agree, it MUST remove the binding only
    // if the CSeq in the request is higher than the value stored for that binding. Otherwise, the update
    // MUST be aborted and the request fails."
    if (current.some((b) => outOfOrder(b, ctx))) return OUT_OF_ORDER;
    return { ok: true, bindings: [] };
  }
  const next = new Map(current.map((b) => [contactKey(b.contact), b]));
  for (const { contact, expires } of plan.contacts) {
    const key = contactKey(contact.uri);
    const old = next.get(key);
    if (old && outOfOrder(old, ctx)) return OUT_OF_ORDER;
    if (expires === 0) {
      next.delete(key);
      continue;
    }
    next.set(key, {
      user: ctx.user,
      contact: contact.uri,
      contactText: formatUri(contact.uri),
      transport: ctx.flow.transport,
      source: { address: ctx.source.address, port: ctx.source.port },
      flow: ctx.flow,
      instance: instanceOf(contact),
      expiresAt: ctx.now + expires * 1000,
      callId: ctx.callId,
      cseq: ctx.cseq,
    });
  }
  if (next.size > ctx.maxContacts && next.size > current.length) {
    // Kamailio's max_contacts answers "503 Too many registered contacts"; 403 tells the UA not to retry.
    return { ok: false, status: 403, reason: `Forbidden: at most ${ctx.maxContacts} contacts per user` };
  }
  return { ok: true, bindings: [...next.values()] };
}

/** §10.3 step 8: "The response SHOULD include a Contact header field value enumerating all current
 *  bindings. Each Contact value MUST feature an "expires" parameter indicating its expiration interval
 *  chosen by the registrar." */
export function contactList(bindings: Binding[], now: number): HeaderField[] {
  return bindings.map((b) => {
    const instance = b.instance !== undefined ? `;+sip.instance="<${b.instance}>"` : '';
    const expires = Math.max(0, Math.round((b.expiresAt - now) / 1000));
    return { name: 'Contact', value: `<${b.contactText}>;expires=${expires}${instance}` };
  });
}
