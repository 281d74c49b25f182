// What a REGISTER asks for, contact by contact (RFC 3261 §10.2.1, §10.3 steps 6-7); pure.
import { getContacts, getExpires } from '../sip/message/index.js';
import type { HeaderField, NameAddr, SipRequest } from '../sip/message/types.js';

export interface ExpiryLimits {
  min: number;
  max: number;
}

export type ContactPlan =
  | { kind: 'update'; contacts: { contact: NameAddr; expires: number }[] }
  | { kind: 'remove-all' }
  | { kind: 'error'; status: number; reason: string; headers: HeaderField[] };

/** §10.2.1.1: "If neither mechanism for expressing a suggested expiration time is present in a REGISTER,
 *  the client is indicating its desire for the server to choose" — we choose an hour (within the limits). */
const DEFAULT_EXPIRES = 3600;
/** §10.3 step 7: 423 only for an interval "smaller than one hour". */
const ONE_HOUR = 3600;

function error(status: number, reason: string, headers: HeaderField[] = []): ContactPlan {
  return { kind: 'error', status, reason, headers };
}

function expiresOf(contact: NameAddr, headerExpires: number | undefined): number | undefined {
  const param = contact.params.expires;
  if (param === undefined) return headerExpires ?? DEFAULT_EXPIRES;
  if (param === null || !/^\d{1,10}$/.test(param)) return undefined;
  return Number(param);
}

export function planContacts(req: SipRequest, limits: ExpiryLimits): ContactPlan {
  let headerExpires: number | undefined;
  let listed: NameAddr[] | '*';
  try {
    headerExpires = getExpires(req);
    listed = getContacts(req);
  } catch (err) {
    return error(400, (err as Error).message);
  }
  // §10.3 step 8 covers a REGISTER without Contact: a query, answered with the current bindings.
  if (listed !== '*' && listed.length === 0) return { kind: 'update', contacts: [] };
  if (listed === '*') {
    // §10.3 step 6: "If the request has additional Contact fields or an expiration time other than zero,
    // the request is invalid, and the server MUST return a 400 (Invalid Request)".
    if (headerExpires !== 0) return error(400, 'Invalid Request: Contact "*" needs Expires: 0');
    return { kind: 'remove-all' };
  }
  const contacts: { contact: NameAddr; expires: number }[] = [];
  const max = Math.max(limits.min, limits.max);
  for (const contact of listed) {
    const asked = expiresOf(contact, headerExpires);
    if (asked === undefined) return error(400, 'Bad Request: invalid expires parameter');
    // §10.3 step 7: "If and only if the requested expiration interval is greater than zero AND smaller than
    // one hour AND less than a registrar-configured minimum, the registrar MAY reject the registration with
    // a response of 423 (Interval Too Brief)." §20.23: the 423 carries Min-Expires.
    if (asked > 0 && asked < ONE_HOUR && asked < limits.min) {
      return error(423, 'Interval Too Brief', [{ name: 'Min-Expires', value: String(limits.min) }]);
    }
    // §10.3 step 7: "the registrar MAY shorten the interval" — to our maximum (and never below the minimum).
    contacts.push({ contact, expires: asked === 0 ? 0 : Math.max(limits.min, Math.min(asked, max)) });
  }
  return { kind: 'update', contacts };
}

/** RFC 5626 §4.1 / RFC 5627: the +sip.instance contact parameter, e.g. "<urn:uuid:…>" → "urn:uuid:…". */
export function instanceOf(contact: NameAddr): string | undefined {
  const raw = contact.params['+sip.instance'];
  if (raw === undefined || raw === null) return undefined;
  const inner = raw.replace(/^"(.*)"$/, '$1').replace(/^<(.*)>$/, '$1').trim();
  return inner === '' ? undefined : inner;
}
