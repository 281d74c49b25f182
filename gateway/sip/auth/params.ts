// Parsing and formatting of Digest challenge / credentials header values.
// RFC 3261 §25.1:  challenge   = ("Digest" LWS digest-cln *(COMMA digest-cln)) / other-challenge
//                  credentials = ("Digest" LWS digest-response) / other-response
//                  auth-param  = auth-param-name EQUAL ( token / quoted-string )
// RFC 3261 §25.1:  quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F)  — a backslash escapes the next char.

/** Raised for a malformed challenge / credentials value; `reason` is fit for a log line or a 400 reason. */
export class DigestParseError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'DigestParseError';
  }
}

/** A parsed `Scheme name=value, …` header value. Parameter names are lower-cased; values unquoted. */
export interface AuthValue {
  scheme: string;
  params: Record<string, string>;
}

/** Header values larger than this are refused rather than parsed. */
const MAX_VALUE_LENGTH = 8192;
const TOKEN_CHAR = /[A-Za-z0-9\-.!%*_+`'~]/;
const WS = /[ \t\r\n]/;

interface Cursor {
  s: string;
  i: number;
}

function skipWs(c: Cursor): void {
  while (c.i < c.s.length && WS.test(c.s[c.i]!)) c.i++;
}

function readToken(c: Cursor): string {
  const start = c.i;
  while (c.i < c.s.length && TOKEN_CHAR.test(c.s[c.i]!)) c.i++;
  return c.s.slice(start, c.i);
}

/** Reads a quoted-string starting at the opening DQUOTE; resolves quoted-pairs. */
function readQuoted(c: Cursor): string {
  let out = '';
  c.i++; // opening quote
  while (c.i < c.s.length) {
    const ch = c.s[c.i]!;
    if (ch === '"') {
      c.i++;
      return out;
    }
    if (ch === '\\') {
      if (c.i + 1 >= c.s.length) break;
      out += c.s[c.i + 1];
      c.i += 2;
      continue;
    }
    out += ch;
    c.i++;
  }
  throw new DigestParseError('unterminated quoted-string');
}

/** Unquoted values: a token, leniently anything up to the next comma or whitespace. */
function readBareValue(c: Cursor): string {
  const start = c.i;
  while (c.i < c.s.length && c.s[c.i] !== ',' && !WS.test(c.s[c.i]!)) c.i++;
  return c.s.slice(start, c.i);
}

function readParam(c: Cursor, params: Record<string, string>): void {
  const name = readToken(c).toLowerCase();
  if (!name) throw new DigestParseError(`expected a parameter name at offset ${c.i}`);
  skipWs(c);
  if (c.s[c.i] !== '=') throw new DigestParseError(`parameter "${name}" has no value`);
  c.i++;
  skipWs(c);
  const value = c.s[c.i] === '"' ? readQuoted(c) : readBareValue(c);
  if (Object.hasOwn(params, name)) throw new DigestParseError(`duplicate parameter "${name}"`);
  params[name] = value;
}

/** Parses `Scheme p1=v1, p2="v2"`. Throws DigestParseError with a reason on malformed input. */
export function parseAuthValue(value: string): AuthValue {
  if (value.length > MAX_VALUE_LENGTH) throw new DigestParseError('header value too long');
  const c: Cursor = { s: value, i: 0 };
  skipWs(c);
  const scheme = readToken(c);
  if (!scheme) throw new DigestParseError('missing auth scheme');
  const params: Record<string, string> = Object.create(null) as Record<string, string>;
  for (;;) {
    skipWs(c);
    while (c.s[c.i] === ',') {
      c.i++;
      skipWs(c);
    }
    if (c.i >= c.s.length) break;
    readParam(c, params);
    skipWs(c);
    if (c.i < c.s.length && c.s[c.i] !== ',') {
      throw new DigestParseError(`expected "," at offset ${c.i}`);
    }
  }
  return { scheme, params };
}

/** RFC 3261 §25.1 quoted-string: escape backslash and DQUOTE. CR/LF cannot be represented: refused. */
export function quoteString(value: string): string {
  if (/[\r\n]/.test(value)) throw new DigestParseError('CR/LF not allowed in a quoted-string');
  return `"${value.replace(/[\\"]/g, (m) => `\\${m}`)}"`;
}

/** One formatted parameter: quoted (quoted-string) or bare (token). */
export type AuthParam = [name: string, value: string, form: 'quoted' | 'token'];

export function formatAuthValue(scheme: string, params: AuthParam[]): string {
  const parts = params.map(([name, value, form]) => {
    if (form === 'token' && !/^[A-Za-z0-9\-.!%*_+`'~]+$/.test(value)) {
      throw new DigestParseError(`"${name}" value is not a token`);
    }
    return `${name}=${form === 'quoted' ? quoteString(value) : value}`;
  });
  return `${scheme} ${parts.join(', ')}`;
}
