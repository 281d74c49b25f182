// SIP/SIPS URIs (RFC 3261 §19.1, §25.1), tel URIs (RFC 3966) and opaque absolute URIs.
//   SIP-URI = "sip:" [ userinfo ] hostport uri-parameters [ headers ]
//   userinfo = ( user / telephone-subscriber ) [ ":" password ] "@"
import { isIPv6 } from 'node:net';
import {
  DIGIT,
  HNV,
  HOST,
  PARAMCHAR,
  PASSWORD,
  SCHEME,
  TELNUM,
  URIC,
  USER,
  allIn,
  escape,
  unescape,
} from './chars.js';
import { newParams } from './params.js';
import { Scanner } from './scanner.js';
import { SipParseError, type SipUri } from './types.js';

const ALPHA = /^[A-Za-z]$/;

/** Parse a URI. Scheme is lower-cased. For sip/sips: user, password, params and headers are unescaped
 *  (RFC 3261 §19.1.2); IPv6 hosts keep their brackets and are checked per RFC 5118 / RFC 5954.
 *  For tel: host is the number. For any other scheme host holds the scheme-specific part verbatim. */
export function parseUri(text: string): SipUri {
  const colon = text.indexOf(':');
  if (colon <= 0 || !ALPHA.test(text.charAt(0)) || !allIn(SCHEME, text.slice(0, colon))) {
    throw new SipParseError('Bad URI: missing or invalid scheme');
  }
  const scheme = text.slice(0, colon).toLowerCase();
  const rest = text.slice(colon + 1);
  if (scheme === 'sip' || scheme === 'sips') return parseSipUri(scheme, rest);
  if (scheme === 'tel') return parseTelUri(rest);
  if (rest.length === 0 || !allIn(URIC, rest)) throw new SipParseError(`Bad URI: invalid ${scheme}: URI`);
  return { scheme, host: rest, params: newParams(), headers: {} };
}

function parseSipUri(scheme: string, rest: string): SipUri {
  const uri: SipUri = { scheme, host: '', params: newParams(), headers: {} };
  let hostPart = rest;
  const at = rest.indexOf('@'); // user and password cannot hold an unescaped '@'
  if (at >= 0) {
    parseUserinfo(rest.slice(0, at), uri);
    hostPart = rest.slice(at + 1);
  }
  const sc = new Scanner(hostPart, 'Bad URI');
  scanHostPort(sc, uri);
  scanUriParams(sc, uri);
  if (sc.eat('?')) scanUriHeaders(sc, uri);
  if (!sc.done) sc.fail(`unexpected '${sc.peek()}'`);
  return uri;
}

function parseUserinfo(info: string, uri: SipUri): void {
  const colon = info.indexOf(':');
  const user = colon >= 0 ? info.slice(0, colon) : info;
  if (user.length === 0 || !allIn(USER, user)) throw new SipParseError('Bad URI: invalid user part');
  uri.user = unescape(user, 'URI user');
  if (colon >= 0) {
    const password = info.slice(colon + 1);
    if (!allIn(PASSWORD, password)) throw new SipParseError('Bad URI: invalid password');
    uri.password = unescape(password, 'URI password');
  }
}

/** hostport = host [ ":" port ];  host = hostname / IPv4address / IPv6reference */
export function scanHostPort(sc: Scanner, into: { host: string; port?: number }, lws = false): void {
  if (sc.peek() === '[') {
    const close = sc.text.indexOf(']', sc.pos);
    const inner = close < 0 ? '' : sc.text.slice(sc.pos + 1, close);
    // RFC 5954 corrects the RFC 3261 IPv6 ABNF: "2001:db8:::192.0.2.1" (three colons) is invalid.
    if (!isIPv6(inner)) sc.fail('invalid IPv6 reference');
    into.host = `[${inner}]`;
    sc.pos = close + 1;
  } else {
    into.host = sc.need(HOST, 'host');
  }
  const mark = sc.pos;
  if (lws) sc.skipWs();
  if (!sc.eat(':')) {
    sc.pos = mark;
    return;
  }
  if (lws) sc.skipWs();
  into.port = scanPort(sc);
}

function scanPort(sc: Scanner): number {
  const digits = sc.need(DIGIT, 'port');
  const port = digits.length <= 5 ? Number(digits) : NaN;
  if (!(port <= 65535)) sc.fail(`port out of range: ${digits}`);
  return port;
}

/** uri-parameters = *( ";" uri-parameter ); no whitespace inside a URI. */
function scanUriParams(sc: Scanner, uri: SipUri): void {
  while (sc.eat(';')) {
    const rawName = sc.need(PARAMCHAR, 'URI parameter name');
    const name = unescape(rawName, 'URI parameter').toLowerCase();
    let value: string | null = null;
    if (sc.eat('=')) value = unescape(sc.need(PARAMCHAR, `value of URI parameter '${name}'`), 'URI parameter');
    if (!(name in uri.params)) uri.params[name] = value;
  }
}

/** headers = "?" header *( "&" header );  header = hname "=" hvalue;  hvalue = *( hnv-unreserved / ... ) */
function scanUriHeaders(sc: Scanner, uri: SipUri): void {
  const headers: Record<string, string> = Object.create(null) as Record<string, string>;
  do {
    const name = unescape(sc.need(HNV, 'URI header name'), 'URI header');
    sc.expect('=', `'=' after URI header '${name}'`);
    headers[name] = unescape(sc.take(HNV), 'URI header');
  } while (sc.eat('&'));
  uri.headers = headers;
}

function parseTelUri(rest: string): SipUri {
  const sc = new Scanner(rest, 'Bad URI');
  const uri: SipUri = { scheme: 'tel', host: sc.need(TELNUM, 'telephone number'), params: newParams(), headers: {} };
  scanUriParams(sc, uri);
  if (!sc.done) sc.fail(`unexpected '${sc.peek()}'`);
  return uri;
}

/** Format a URI; parseUri(formatUri(u)) deep-equals u. */
export function formatUri(uri: SipUri): string {
  const scheme = uri.scheme.toLowerCase();
  if (scheme !== 'sip' && scheme !== 'sips' && scheme !== 'tel') return `${scheme}:${uri.host}`;
  let out = `${scheme}:`;
  if (uri.user !== undefined && scheme !== 'tel') {
    out += escape(uri.user, USER);
    if (uri.password !== undefined) out += ':' + escape(uri.password, PASSWORD);
    out += '@';
  }
  out += uri.host;
  if (uri.port !== undefined) out += `:${uri.port}`;
  for (const name of Object.keys(uri.params)) {
    const v = uri.params[name];
    out += ';' + escape(name, PARAMCHAR) + (v === null || v === undefined ? '' : '=' + escape(v, PARAMCHAR));
  }
  const names = Object.keys(uri.headers);
  if (names.length > 0) {
    out += '?' + names.map((n) => `${escape(n, HNV)}=${escape(uri.headers[n] ?? '', HNV)}`).join('&');
  }
  return out;
}
