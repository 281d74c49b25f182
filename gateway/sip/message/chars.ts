// Character classes of the RFC 3261 §25.1 grammar as 128-entry lookup tables (no regex backtracking).
import { SipParseError } from './types.js';

export type CharTable = Uint8Array;

const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

function table(chars: string): CharTable {
  const t = new Uint8Array(128);
  for (const c of chars) t[c.charCodeAt(0)] = 1;
  return t;
}

export function inTable(t: CharTable, code: number): boolean {
  return code < 128 && t[code] === 1;
}

// RFC 3261 §25.1: mark = "-" / "_" / "." / "!" / "~" / "*" / "'" / "(" / ")"; unreserved = alphanum / mark
const UNRESERVED = ALNUM + "-_.!~*'()";
/** token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~") */
export const TOKEN = table(ALNUM + "-.!%*_+`'~");
/** word (Call-ID) = token chars plus ( ) < > : \ DQUOTE / [ ] ? { } */
export const WORD = table(ALNUM + "-.!%*_+`'~()<>:\\\"/[]?{}");
/** user = 1*( unreserved / escaped / user-unreserved ); user-unreserved = & = + $ , ; ? / */
export const USER = table(UNRESERVED + '%&=+$,;?/');
/** password = *( unreserved / escaped / & = + $ , ) */
export const PASSWORD = table(UNRESERVED + '%&=+$,');
/** paramchar = param-unreserved / unreserved / escaped; param-unreserved = [ ] / : & + $ */
export const PARAMCHAR = table(UNRESERVED + '%[]/:&+$');
/** hname/hvalue = hnv-unreserved / unreserved / escaped; hnv-unreserved = [ ] / ? : + $ */
export const HNV = table(UNRESERVED + '%[]/?:+$');
/** hostname / IPv4address characters (underscore tolerated: seen in the wild). */
export const HOST = table(ALNUM + '-._');
/** absoluteURI opaque part: uric = reserved / unreserved / escaped */
export const URIC = table(UNRESERVED + '%;/?:@&=+$,#');
/** scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) */
export const SCHEME = table(ALNUM + '+-.');
/** tel: number characters (RFC 3966 global/local number digits, visual separators, DTMF). */
export const TELNUM = table('0123456789abcdefABCDEF*#+-.()pwPW');
/** gen-value = token / host / quoted-string: token chars plus the host characters : [ ] */
export const GENVALUE = table(ALNUM + "-.!%*_+`'~:[]");
export const DIGIT = table('0123456789');

export function isWs(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!inTable(TOKEN, s.charCodeAt(i))) return false;
  return true;
}

export function allIn(t: CharTable, s: string): boolean {
  for (let i = 0; i < s.length; i++) if (!inTable(t, s.charCodeAt(i))) return false;
  return true;
}

function hexVal(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 65 && code <= 70) return code - 55;
  if (code >= 97 && code <= 102) return code - 87;
  return -1;
}

/** RFC 3261 §19.1.2 / RFC 3986 §2.1: escaped = "%" HEXDIG HEXDIG; decoded octets are read as UTF-8. */
export function unescape(s: string, what: string): string {
  if (s.indexOf('%') < 0) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 0x25) {
      bytes.push(c);
      continue;
    }
    const hi = hexVal(s.charCodeAt(i + 1));
    const lo = hexVal(s.charCodeAt(i + 2));
    if (hi < 0 || lo < 0) throw new SipParseError(`Bad escape sequence in ${what}`);
    bytes.push(hi * 16 + lo);
    i += 2;
  }
  return Buffer.from(bytes).toString('utf8');
}

const HEX = '0123456789ABCDEF';

/** Escape every octet of the UTF-8 form of `s` that is not in `allowed` (and always '%'). */
export function escape(s: string, allowed: CharTable): string {
  let plain = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25 || !inTable(allowed, c)) {
      plain = false;
      break;
    }
  }
  if (plain) return s;
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    if (b !== 0x25 && inTable(allowed, b)) out += String.fromCharCode(b);
    else out += '%' + HEX[b >> 4] + HEX[b & 15];
  }
  return out;
}

/** Strip SP/HTAB (and stray CR/LF) at both ends. Unlike String.prototype.trim it keeps Unicode spaces
 *  and U+FEFF, which are data in UTF-8 header values (RFC 4475 §3.1.1.2). */
export function trimWs(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isLws(s.charCodeAt(a))) a++;
  while (b > a && isLws(s.charCodeAt(b - 1))) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

function isLws(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
}
