// Header parameters: *( SEMI generic-param ), RFC 3261 §7.3.1 / §25.1.
//   generic-param = token [ EQUAL gen-value ];  gen-value = token / host / quoted-string
//   SEMI = SWS ";" SWS;  EQUAL = SWS "=" SWS
import { GENVALUE, TOKEN } from './chars.js';
import { Scanner } from './scanner.js';

export type Params = Record<string, string | null>;

/** A prototype-less record, so that a parameter named "__proto__" is just data. */
export function newParams(): Params {
  return Object.create(null) as Params;
}

/** Parse `;name=value` pairs from the scanner's position until something other than ';' follows.
 *  Names are lower-cased; a parameter without '=' maps to null. A quoted-string value is kept WITH its
 *  quotes (use unquote()) so that formatting gives back the same text (RFC 3840 tells "x" from x). */
export function scanParams(sc: Scanner, into: Params = newParams()): Params {
  for (;;) {
    const mark = sc.pos;
    sc.skipWs();
    if (!sc.eat(';')) {
      sc.pos = mark;
      return into;
    }
    sc.skipWs();
    const name = sc.need(TOKEN, 'parameter name').toLowerCase();
    const beforeEq = sc.pos;
    sc.skipWs();
    let value: string | null = null;
    if (sc.eat('=')) {
      sc.skipWs();
      value = sc.peek() === '"' ? sc.quoted() : sc.need(GENVALUE, `value of parameter '${name}'`);
    } else {
      sc.pos = beforeEq;
    }
    // RFC 3261 §7.3.1 does not define duplicates; the first occurrence wins.
    if (!(name in into)) into[name] = value;
  }
}

/** Generic header-params parser: `text` is the part starting at the first ';' (or empty). */
export function parseParams(text: string, what = 'Bad parameters'): Params {
  const sc = new Scanner(text, what);
  const params = scanParams(sc);
  sc.end();
  return params;
}

/** Format parameters as `;a=b;c`. Values are written as stored (quoted-strings keep their quotes). */
export function formatParams(params: Params): string {
  let out = '';
  for (const name of Object.keys(params)) {
    const v = params[name];
    out += v === null || v === undefined ? `;${name}` : `;${name}=${v}`;
  }
  return out;
}
