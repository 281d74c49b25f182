// The few header reads the dialog layer needs, in dialog terms. Stand-in parsing until
// gateway/sip/message/index.js lands; then only this file switches to the shared helpers.
import type { SipMessage } from '../message/types.js';

/** A message lacks what a dialog needs; `reason` names the fault (fit for a 400 reason phrase). */
export class DialogError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'DialogError';
  }
}

export interface AddressRef {
  /** The URI text, without angle brackets. */
  uri: string;
  tag?: string;
}

function fieldValues(msg: SipMessage, name: string): string[] {
  const lower = name.toLowerCase();
  return msg.headers.filter((h) => h.name.toLowerCase() === lower).flatMap((h) => splitList(h.value));
}

/** Splits a comma-separated header list, ignoring commas inside quotes or <> (RFC 3261 §7.3.1). */
function splitList(value: string): string[] {
  const out: string[] = [];
  let quoted = false;
  let angle = false;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '\\' && quoted) i++;
    else if (c === '"') quoted = !quoted;
    else if (!quoted && c === '<') angle = true;
    else if (!quoted && c === '>') angle = false;
    else if (!quoted && !angle && c === ',') {
      out.push(value.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(value.slice(start).trim());
  return out.filter((v) => v !== '');
}

/** name-addr / addr-spec → URI text and header params (RFC 3261 §20.10: without <>, params belong to the header). */
function parseAddress(value: string): { uri: string; params: Record<string, string | null> } {
  const lt = value.indexOf('<');
  let uri: string;
  let rest: string;
  if (lt >= 0) {
    const gt = value.indexOf('>', lt);
    if (gt < 0) throw new DialogError(`unclosed "<" in "${value}"`);
    uri = value.slice(lt + 1, gt).trim();
    rest = value.slice(gt + 1);
  } else {
    const semi = value.indexOf(';');
    uri = (semi < 0 ? value : value.slice(0, semi)).trim();
    rest = semi < 0 ? '' : value.slice(semi);
  }
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:\S+$/.test(uri)) throw new DialogError(`malformed URI in "${value}"`);
  const params: Record<string, string | null> = {};
  for (const p of rest.split(';')) {
    const t = p.trim();
    if (!t) continue;
    const eq = t.indexOf('=');
    if (eq < 0) params[t.toLowerCase()] = null;
    else params[t.slice(0, eq).trim().toLowerCase()] = t.slice(eq + 1).trim();
  }
  return { uri, params };
}

function single(msg: SipMessage, name: string): string {
  const v = fieldValues(msg, name)[0];
  if (v === undefined) throw new DialogError(`missing ${name} header`);
  return v;
}

export function readAddress(msg: SipMessage, name: 'From' | 'To'): AddressRef {
  const { uri, params } = parseAddress(single(msg, name));
  const tag = params.tag;
  return tag ? { uri, tag } : { uri };
}

export function readCallId(msg: SipMessage): string {
  const lower = 'call-id';
  const v = msg.headers.find((h) => h.name.toLowerCase() === lower)?.value.trim();
  if (!v) throw new DialogError('missing Call-ID header');
  return v;
}

export function readCSeq(msg: SipMessage): { seq: number; method: string } {
  const lower = 'cseq';
  const v = msg.headers.find((h) => h.name.toLowerCase() === lower)?.value;
  const m = v === undefined ? null : /^\s*(\d{1,10})\s+(\S+)\s*$/.exec(v);
  if (!m) throw new DialogError(v === undefined ? 'missing CSeq header' : `malformed CSeq "${v}"`);
  const seq = Number(m[1]);
  // RFC 3261 §8.1.1.5: "The sequence number value MUST be expressible as a 32-bit unsigned integer"
  if (seq > 0xffffffff) throw new DialogError(`CSeq out of range "${v}"`);
  return { seq, method: m[2]! };
}

/** The URI of the first Contact, or undefined when there is none. */
export function readContactUri(msg: SipMessage): string | undefined {
  const v = fieldValues(msg, 'Contact')[0];
  return v === undefined ? undefined : parseAddress(v).uri;
}

/** Record-Route values in message order, as written (each one a name-addr to copy into Route). */
export function readRecordRoutes(msg: SipMessage): string[] {
  const values = fieldValues(msg, 'Record-Route');
  for (const v of values) parseAddress(v); // validate now, not when the route is used
  return values;
}

/** A Route value's URI, and whether it is a loose router (RFC 3261 §19.1.1 "lr" uri-parameter). */
export function routeInfo(route: string): { uri: string; loose: boolean } {
  const { uri } = parseAddress(route);
  const noHeaders = uri.split('?')[0]!;
  const loose = noHeaders.split(';').slice(1).some((p) => p.trim().toLowerCase().split('=')[0] === 'lr');
  return { uri, loose };
}
