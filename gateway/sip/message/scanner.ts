// A tiny cursor over a header value: every value parser is a single left-to-right pass.
import { type CharTable, inTable, isWs } from './chars.js';
import { SipParseError } from './types.js';

export class Scanner {
  pos = 0;

  constructor(
    readonly text: string,
    /** Prefix for error reasons, e.g. "Bad Via". */
    readonly what: string,
  ) {}

  get done(): boolean {
    return this.pos >= this.text.length;
  }

  peek(): string {
    return this.text.charAt(this.pos);
  }

  fail(why: string): never {
    throw new SipParseError(`${this.what}: ${why}`);
  }

  /** SWS / LWS: folding was already replaced by a space when the header section was unfolded. */
  skipWs(): boolean {
    const start = this.pos;
    while (this.pos < this.text.length && isWs(this.text.charCodeAt(this.pos))) this.pos++;
    return this.pos > start;
  }

  take(t: CharTable): string {
    const start = this.pos;
    while (this.pos < this.text.length && inTable(t, this.text.charCodeAt(this.pos))) this.pos++;
    return this.text.slice(start, this.pos);
  }

  /** Like take() but the run must be non-empty. */
  need(t: CharTable, what: string): string {
    const s = this.take(t);
    if (s.length === 0) this.fail(this.done ? `missing ${what}` : `bad character '${this.peek()}' in ${what}`);
    return s;
  }

  eat(ch: string): boolean {
    if (this.text.charAt(this.pos) !== ch) return false;
    this.pos++;
    return true;
  }

  expect(ch: string, what: string): void {
    if (!this.eat(ch)) this.fail(this.done ? `missing ${what}` : `expected ${what}, found '${this.peek()}'`);
  }

  /** RFC 3261 §25.1: quoted-string = SWS DQUOTE *(qdtext / quoted-pair) DQUOTE. Returns the raw text
   *  including the quotes; the scanner must be on the opening quote. */
  quoted(): string {
    const start = this.pos;
    this.pos++;
    while (this.pos < this.text.length) {
      const c = this.text.charCodeAt(this.pos);
      if (c === 0x5c) this.pos += 2; // quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F)
      else if (c === 0x22) return this.text.slice(start, ++this.pos);
      else this.pos++;
    }
    return this.fail('unterminated quoted string');
  }

  /** Nothing but whitespace may remain. */
  end(): void {
    this.skipWs();
    if (!this.done) this.fail(`unexpected '${this.peek()}'`);
  }
}

/** Remove the quotes and quoted-pair escapes of a quoted-string (returns other text unchanged). */
export function unquote(s: string): string {
  if (s.length < 2 || s.charCodeAt(0) !== 0x22 || s.charCodeAt(s.length - 1) !== 0x22) return s;
  let out = '';
  for (let i = 1; i < s.length - 1; i++) {
    const c = s.charAt(i);
    if (c === '\\' && i + 1 < s.length - 1) out += s.charAt(++i);
    else out += c;
  }
  return out;
}

/** Make a quoted-string of arbitrary text: '"' and '\' and control characters become quoted-pairs. */
export function quote(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x0a || c === 0x0d) {
      out += ' '; // CR and LF cannot appear even as quoted-pairs
      continue;
    }
    const needsPair = c === 0x22 || c === 0x5c || (c < 0x20 && c !== 0x09) || c === 0x7f;
    out += needsPair ? '\\' + s.charAt(i) : s.charAt(i);
  }
  return out + '"';
}
