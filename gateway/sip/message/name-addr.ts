// From / To / Contact / Route / Record-Route values, RFC 3261 §20.10 and §25.1:
//   ( name-addr / addr-spec ) *( SEMI generic-param )
//   name-addr = [ display-name ] LAQUOT addr-spec RAQUOT;  display-name = *(token LWS) / quoted-string
import { TOKEN, inTable, isWs, trimWs } from './chars.js';
import { formatParams, scanParams } from './params.js';
import { Scanner, quote, unquote } from './scanner.js';
import { SipParseError, type NameAddr } from './types.js';
import { formatUri, parseUri } from './uri.js';

/** Parse one name-addr or addr-spec with its header parameters. `what` prefixes error reasons. */
export function parseNameAddr(text: string, what = 'Bad name-addr'): NameAddr {
  const sc = new Scanner(text, what);
  sc.skipWs();
  const result: NameAddr = sc.peek() === '"' ? scanQuotedForm(sc) : scanUnquotedForm(sc);
  scanParams(sc, result.params);
  sc.end();
  return result;
}

function scanQuotedForm(sc: Scanner): NameAddr {
  const displayName = unquote(sc.quoted());
  sc.skipWs();
  if (sc.peek() !== '<') sc.fail('expected <URI> after the quoted display name');
  return { displayName, uri: scanBracketed(sc), params: Object.create(null) };
}

/** Either `token token <uri>` or a bare addr-spec. A display name is a run of tokens and LWS that ends at
 *  '<'; anything else (e.g. ',' in `Bell, Alexander <sip:…>`, RFC 4475 §3.1.2.15) is an error. */
function scanUnquotedForm(sc: Scanner): NameAddr {
  const start = sc.pos;
  let sawSpace = false;
  while (!sc.done) {
    const c = sc.text.charCodeAt(sc.pos);
    if (isWs(c)) sawSpace = true;
    else if (!inTable(TOKEN, c)) break;
    sc.pos++;
  }
  if (sc.peek() === '<') {
    const displayName = collapseWs(sc.text.slice(start, sc.pos));
    const uri = scanBracketed(sc);
    return displayName ? { displayName, uri, params: Object.create(null) } : { uri, params: Object.create(null) };
  }
  if (sc.peek() === ':' && !sawSpace && sc.pos > start) {
    sc.pos = start;
    return { uri: scanBareUri(sc), params: Object.create(null) };
  }
  if (sc.peek() === '"') return sc.fail('unexpected quote inside display name');
  return sc.done ? sc.fail('missing URI') : sc.fail(`invalid character '${sc.peek()}' in display name`);
}

function collapseWs(s: string): string {
  return trimWs(s).replace(/[ \t]+/g, ' ');
}

/** LAQUOT addr-spec RAQUOT: no whitespace allowed inside the brackets (RFC 4475 §3.1.2.14). */
function scanBracketed(sc: Scanner): NameAddr['uri'] {
  sc.pos++; // '<'
  const close = sc.text.indexOf('>', sc.pos);
  if (close < 0) sc.fail("missing '>'");
  const inner = sc.text.slice(sc.pos, close);
  if (/[ \t]/.test(inner)) sc.fail('whitespace inside <>');
  const uri = wrap(sc, () => parseUri(inner));
  sc.pos = close + 1;
  return uri;
}

/** RFC 3261 §20.10: without angle brackets the URI ends at the first ';' (its parameters are header
 *  parameters) and it may not contain ',' or '?' ("MUST be enclosed in angle brackets"). */
function scanBareUri(sc: Scanner): NameAddr['uri'] {
  const start = sc.pos;
  while (!sc.done) {
    const c = sc.peek();
    if (c === ';' || c === ' ' || c === '\t') break;
    if (c === '?' || c === ',') sc.fail(`URI containing '${c}' must be enclosed in <>`);
    sc.pos++;
  }
  const text = sc.text.slice(start, sc.pos);
  return wrap(sc, () => parseUri(text));
}

function wrap<T>(sc: Scanner, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof SipParseError) sc.fail(e.reason.replace(/^Bad URI: /, 'URI: '));
    throw e;
  }
}

/** Always writes the name-addr form with <> (safe for every URI); display name quoted when present. */
export function formatNameAddr(na: NameAddr): string {
  const dn = na.displayName !== undefined ? quote(na.displayName) + ' ' : '';
  return `${dn}<${formatUri(na.uri)}>${formatParams(na.params)}`;
}
