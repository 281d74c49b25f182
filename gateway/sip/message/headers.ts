// Header access: raw fields by name (case-insensitive, compact forms accepted) and typed getters.
import { trimWs } from './chars.js';
import { canonicalName, isListHeader, nameKey } from './header-names.js';
import { parseNameAddr } from './name-addr.js';
import { parseCSeq, parseCallId, parseExpires, parseMaxForwards } from './scalars.js';
import { type CSeq, type HeaderField, type NameAddr, type SipMessage, SipParseError, type Via } from './types.js';
import { parseVia } from './via.js';

type HasHeaders = Pick<SipMessage, 'headers'>;

/** Split a comma-separated header value (RFC 3261 §7.3.1) at commas outside quoted strings and <…>.
 *  Elements are trimmed; empty elements are kept so validation can reject them. */
export function splitList(value: string): string[] {
  const out: string[] = [];
  let start = 0;
  let inQuote = false;
  let inAngle = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (inQuote) {
      if (c === 0x5c) i++; // quoted-pair
      else if (c === 0x22) inQuote = false;
    } else if (c === 0x22) inQuote = true;
    else if (c === 0x3c) inAngle = true;
    else if (c === 0x3e) inAngle = false;
    else if (c === 0x2c && !inAngle) {
      out.push(trimWs(value.slice(start, i)));
      start = i + 1;
    }
  }
  out.push(trimWs(value.slice(start)));
  return out;
}

/** Raw fields with this name, in order. */
export function getFields(msg: HasHeaders, name: string): HeaderField[] {
  const key = nameKey(name);
  return msg.headers.filter((h) => nameKey(h.name) === key);
}

/** Every value of a header: list headers are split at commas (empty elements dropped); other headers
 *  give one value per field line. */
export function getHeaderValues(msg: HasHeaders, name: string): string[] {
  const fields = getFields(msg, name);
  if (!isListHeader(name)) return fields.map((h) => h.value);
  const out: string[] = [];
  for (const f of fields) for (const v of splitList(f.value)) if (v.length > 0) out.push(v);
  return out;
}

/** The first value (the first list element for list headers, e.g. the top Via). */
export function getHeader(msg: HasHeaders, name: string): string | undefined {
  if (isListHeader(name)) return getHeaderValues(msg, name)[0];
  const key = nameKey(name);
  return msg.headers.find((h) => nameKey(h.name) === key)?.value;
}

export function hasHeader(msg: HasHeaders, name: string): boolean {
  const key = nameKey(name);
  return msg.headers.some((h) => nameKey(h.name) === key);
}

/** Replace every field with this name by one field, at the position of the first (or appended). */
export function setHeader(msg: HasHeaders, name: string, value: string): void {
  const key = nameKey(name);
  const first = msg.headers.findIndex((h) => nameKey(h.name) === key);
  const field = { name: canonicalName(name), value };
  if (first < 0) {
    msg.headers.push(field);
    return;
  }
  msg.headers = msg.headers.filter((h, i) => i < first || nameKey(h.name) !== key);
  msg.headers.splice(first, 0, field);
}

/** Add a field. With prepend it goes before the first field of that name (or at the very top), as a
 *  proxy does for Via and Record-Route; otherwise after the last one of that name (or at the end). */
export function addHeader(msg: HasHeaders, name: string, value: string, opts: { prepend?: boolean } = {}): void {
  const key = nameKey(name);
  const field = { name: canonicalName(name), value };
  if (opts.prepend) {
    const first = msg.headers.findIndex((h) => nameKey(h.name) === key);
    msg.headers.splice(first < 0 ? 0 : first, 0, field);
    return;
  }
  let last = -1;
  msg.headers.forEach((h, i) => {
    if (nameKey(h.name) === key) last = i;
  });
  msg.headers.splice(last < 0 ? msg.headers.length : last + 1, 0, field);
}

/** Remove every field with this name; returns how many were removed. */
export function removeHeader(msg: HasHeaders, name: string): number {
  const key = nameKey(name);
  const before = msg.headers.length;
  msg.headers = msg.headers.filter((h) => nameKey(h.name) !== key);
  return before - msg.headers.length;
}

function required(msg: HasHeaders, name: string): string {
  const v = getHeader(msg, name);
  if (v === undefined) throw new SipParseError(`Missing ${name} header`);
  return v;
}

export function getVias(msg: HasHeaders): Via[] {
  return getHeaderValues(msg, 'Via').map((v) => parseVia(v));
}

export function getTopVia(msg: HasHeaders): Via | undefined {
  const top = getHeader(msg, 'Via');
  return top === undefined ? undefined : parseVia(top);
}

export function getFrom(msg: HasHeaders): NameAddr {
  return parseNameAddr(required(msg, 'From'), 'Bad From');
}

export function getTo(msg: HasHeaders): NameAddr {
  return parseNameAddr(required(msg, 'To'), 'Bad To');
}

export function getCallId(msg: HasHeaders): string {
  return parseCallId(required(msg, 'Call-ID'));
}

export function getCSeq(msg: HasHeaders): CSeq {
  return parseCSeq(required(msg, 'CSeq'));
}

/** Contact values; '*' for the REGISTER wildcard `Contact: *` (RFC 3261 §10.2.2), which must stand alone. */
export function getContacts(msg: HasHeaders): NameAddr[] | '*' {
  const values = getHeaderValues(msg, 'Contact');
  if (values.includes('*')) {
    if (values.length !== 1) throw new SipParseError('Bad Contact: * must be the only Contact value');
    return '*';
  }
  return values.map((v) => parseNameAddr(v, 'Bad Contact'));
}

export function getMaxForwards(msg: HasHeaders): number | undefined {
  const v = getHeader(msg, 'Max-Forwards');
  return v === undefined ? undefined : parseMaxForwards(v);
}

export function getExpires(msg: HasHeaders): number | undefined {
  const v = getHeader(msg, 'Expires');
  return v === undefined ? undefined : parseExpires(v);
}
