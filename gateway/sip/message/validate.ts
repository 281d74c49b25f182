// Message-level validity, RFC 3261 §8.1.1 (mandatory headers), §8.2.2 (UAS checks), §7.3.1, §20.
import { splitList } from './headers.js';
import { nameKey } from './header-names.js';
import { parseNameAddr } from './name-addr.js';
import { checkDate, parseCSeq, parseCallId, parseExpires, parseMaxForwards } from './scalars.js';
import { type HeaderField, type SipRequest, type SipResponse, SipParseError } from './types.js';
import { parseUri } from './uri.js';
import { parseVia } from './via.js';

const VERSION = /^SIP\/[0-9]+\.[0-9]+$/i;

/** Header fields that may appear at most once (RFC 3261 §7.3.1, §20: not comma-list headers). */
const SINGLE = ['To', 'From', 'Call-ID', 'CSeq', 'Content-Length', 'Max-Forwards'];

/** RFC 3261 §8.1.1: "A valid SIP request formulated by a UAC MUST, at a minimum, contain … To, From,
 *  CSeq, Call-ID, Max-Forwards, and Via". Max-Forwards is not demanded of inbound requests: RFC 2543
 *  had no such header and RFC 4475 §3.4.1 asks RFC 3261 elements to accept such requests (a proxy adds
 *  one, RFC 3261 §16.6 step 3); use `requireMaxForwards` to insist. */
const MANDATORY = ['To', 'From', 'CSeq', 'Call-ID', 'Via'];

export interface ValidateOptions {
  requireMaxForwards?: boolean;
}

/** Throws SipParseError (status 400, or 505 for the version) naming the first fault. */
export function validateRequest(req: SipRequest, opts: ValidateOptions = {}): void {
  const partial = { method: req.method, headers: req.headers, isRequest: true };
  guard(partial, () => {
    checkVersion(req.version);
    checkPresence(req.headers, opts.requireMaxForwards ? [...MANDATORY, 'Max-Forwards'] : MANDATORY);
    checkRequestUri(req.uri);
    for (const h of req.headers) checkField(h);
    const cseq = parseCSeq(single(req.headers, 'CSeq'));
    // RFC 3261 §8.2.2 / RFC 4475 §3.1.2.17: the CSeq method must match the Request-Line method.
    if (cseq.method !== req.method) throw new SipParseError('Bad CSeq: method mismatch');
  });
}

/** Throws SipParseError naming the first fault (a response is never answered; the caller drops it). */
export function validateResponse(res: SipResponse): void {
  const partial = { headers: res.headers, isRequest: false };
  guard(partial, () => {
    checkVersion(res.version);
    if (!Number.isInteger(res.status) || res.status < 100 || res.status > 699) {
      throw new SipParseError('Bad Status-Code');
    }
    checkPresence(res.headers, MANDATORY);
    for (const h of res.headers) checkField(h);
    parseCSeq(single(res.headers, 'CSeq'));
  });
}

/** Re-throw with `partial` attached so a 400 can still be built (or the status kept, e.g. 505). */
function guard(partial: NonNullable<SipParseError['partial']>, check: () => void): void {
  try {
    check();
  } catch (e) {
    if (e instanceof SipParseError) throw new SipParseError(e.reason, partial, e.status);
    throw e;
  }
}

/** RFC 3261 §8.2.2 / §21.5.6: a version other than SIP/2.0 is answered 505. */
function checkVersion(version: string): void {
  if (!VERSION.test(version)) throw new SipParseError(`Bad SIP-Version: '${version}'`);
  if (version.toUpperCase() !== 'SIP/2.0') throw new SipParseError(`SIP Version Not Supported: ${version}`, undefined, 505);
}

function single(headers: HeaderField[], name: string): string {
  const key = name.toLowerCase();
  return headers.find((h) => nameKey(h.name) === key)?.value ?? '';
}

/** Single-valued headers at most once (RFC 4475 §3.3.8, §3.3.9), mandatory ones present (§3.3.1). */
function checkPresence(headers: HeaderField[], mandatory: string[]): void {
  for (const name of SINGLE) {
    const key = name.toLowerCase();
    if (headers.filter((h) => nameKey(h.name) === key).length > 1) {
      throw new SipParseError(`Duplicate ${name} header`);
    }
  }
  for (const name of mandatory) {
    if (!headers.some((h) => nameKey(h.name) === name.toLowerCase())) throw new SipParseError(`Missing ${name} header`);
  }
}

const ADDRESS_LIST = new Set(['contact', 'route', 'record-route']);

/** Typed syntax check of the fields the SIP core relies on. */
function checkField(h: HeaderField): void {
  const key = nameKey(h.name);
  if (key === 'via') return splitList(h.value).forEach((v) => parseVia(v));
  if (key === 'from' || key === 'to') return void parseNameAddr(h.value, `Bad ${h.name}`);
  if (key === 'call-id') return void parseCallId(h.value);
  if (key === 'max-forwards') return void parseMaxForwards(h.value);
  if (key === 'expires') return void parseExpires(h.value);
  if (key === 'date') return checkDate(h.value);
  if (key === 'cseq') return void parseCSeq(h.value);
  if (ADDRESS_LIST.has(key)) return checkAddressList(h);
}

function checkAddressList(h: HeaderField): void {
  const values = splitList(h.value);
  if (h.name === 'Contact' && values.length === 1 && values[0] === '*') return; // RFC 3261 §10.2.2
  for (const v of values) parseNameAddr(v, `Bad ${h.name}`);
}

/** RFC 3261 §19.1.1 (table): a SIP Request-URI carries no headers component (RFC 4475 §3.1.2.11).
 *  Unknown schemes parse (answer them with checkUriScheme → 416). */
function checkRequestUri(text: string): void {
  let uri;
  try {
    uri = parseUri(text);
  } catch (e) {
    throw new SipParseError(`Bad Request-URI: ${e instanceof SipParseError ? e.reason.replace(/^Bad URI: /, '') : 'unparsable'}`);
  }
  if ((uri.scheme === 'sip' || uri.scheme === 'sips') && Object.keys(uri.headers).length > 0) {
    throw new SipParseError('Bad Request-URI: headers are not allowed in a Request-URI');
  }
}

/** RFC 3261 §8.2.2.1: "If the Request-URI uses a scheme not supported by the UAS, it SHOULD reject the
 *  request with a 416 (Unsupported URI Scheme) response." Returns the error to answer with, if any. */
export function checkUriScheme(req: SipRequest, supported: readonly string[] = ['sip', 'sips', 'tel']): SipParseError | undefined {
  const colon = req.uri.indexOf(':');
  const scheme = colon > 0 ? req.uri.slice(0, colon).toLowerCase() : '';
  if (supported.includes(scheme)) return undefined;
  return new SipParseError(`Unsupported URI Scheme: ${scheme}`, { method: req.method, headers: req.headers, isRequest: true }, 416);
}
