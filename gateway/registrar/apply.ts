// Applying one REGISTER's contact plan to a user's current bindings (RFC 3261 §10.3 steps 6-7); pure.
import { formatUri } from '../sip/message/index.js';
import type { HeaderField, SipUri } from '../sip/message/types.js';
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

/** A copy of `s` sharing no memory with the message it was cut from. V8 keeps a substring of 13 or more
 *  characters as a slice of its parent (and a concatenation as its parts), so a binding holding the Call-ID,
 *  the +sip.instance or the contact would keep the whole REGISTER text alive for the registration's life:
 *  ≈ 1 KB of live heap per idle registered WebSocket client (bench/ws-register.ts, 10.3 → 9.3 KiB). */
function own(s: string): string {
  return s.length < 13 ? s : Buffer.from(s, 'utf8').toString('utf8');
}

function ownUri(u: SipUri): SipUri {
  const params: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(u.params)) params[k] = v === null ? null : own(v);
  const copy: SipUri = { scheme: u.scheme, host: own(u.host), params, headers: { ...u.headers } };
  if (u.user !== undefined) copy.user = own(u.user);
  if (u.password !== undefined) copy.password = u.password;
  if (u.port !== undefined) copy.port = u.port;
  return copy;
}

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
    const instance = instanceOf(contact);
    next.set(key, {
      user: own(ctx.user),
      contact: ownUri(contact.uri),
      contactText: own(formatUri(contact.uri)),
      transport: ctx.flow.transport,
      source: { address: ctx.source.address, port: ctx.source.port },
      flow: ctx.flow,
      instance: instance === undefined ? undefined : own(instance),
      expiresAt: ctx.now + expires * 1000,
      callId: own(ctx.callId),
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
