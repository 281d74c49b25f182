// Bencode (BEP 3), the encoding of rtpengine's ng control protocol: integers `i<n>e`, byte strings
// `<len>:<bytes>`, lists `l…e`, dictionaries `d…e` with keys sorted as raw strings.
// Decoding never throws anything but BencodeError, whatever the input.

export type Bencodable = string | number | Bencodable[] | { [key: string]: Bencodable };

export class BencodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BencodeError';
  }
}

export function bencode(value: Bencodable): Buffer {
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new BencodeError(`bencode integers only, got ${value}`);
    return Buffer.from(`i${value}e`);
  }
  if (typeof value === 'string') {
    const bytes = Buffer.from(value);
    return Buffer.concat([Buffer.from(`${bytes.length}:`), bytes]);
  }
  if (Array.isArray(value)) return Buffer.concat([Buffer.from('l'), ...value.map(bencode), Buffer.from('e')]);
  // BEP 3: "Keys must be strings and appear in sorted order (sorted as raw strings, not alphanumerics)."
  const keys = Object.keys(value).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return Buffer.concat([Buffer.from('d'), ...keys.flatMap((k) => [bencode(k), bencode(value[k]!)]), Buffer.from('e')]);
}

const MAX_DEPTH = 32;
const E = 0x65; // 'e'

class Decoder {
  private i = 0;
  constructor(private readonly buf: Buffer) {}

  decode(): Bencodable {
    const value = this.next(0);
    if (this.i !== this.buf.length) throw new BencodeError(`trailing bytes at offset ${this.i}`);
    return value;
  }

  private fail(what: string): never {
    throw new BencodeError(`${what} at offset ${this.i}`);
  }

  private next(depth: number): Bencodable {
    if (depth > MAX_DEPTH) this.fail('nesting too deep');
    const c = this.buf[this.i];
    if (c === undefined) this.fail('unexpected end of input');
    if (c === 0x69) return this.integer(); // 'i'
    if (c === 0x6c) return this.list(depth); // 'l'
    if (c === 0x64) return this.dict(depth); // 'd'
    if (c >= 0x30 && c <= 0x39) return this.string();
    return this.fail(`unexpected byte 0x${c.toString(16)}`);
  }

  private integer(): number {
    const end = this.buf.indexOf(E, this.i);
    if (end < 0) this.fail('unterminated integer');
    const text = this.buf.subarray(this.i + 1, end).toString('latin1');
    if (!/^(0|-?[1-9][0-9]*)$/.test(text)) this.fail(`bad integer "${text}"`);
    this.i = end + 1;
    return Number(text);
  }

  private string(): string {
    const colon = this.buf.indexOf(0x3a, this.i);
    if (colon < 0) this.fail('string without ":"');
    const text = this.buf.subarray(this.i, colon).toString('latin1');
    if (!/^[0-9]+$/.test(text)) this.fail(`bad string length "${text}"`);
    const len = Number(text);
    if (colon + 1 + len > this.buf.length) this.fail(`string of ${len} bytes past the end`);
    this.i = colon + 1 + len;
    return this.buf.subarray(colon + 1, colon + 1 + len).toString();
  }

  private list(depth: number): Bencodable[] {
    this.i++;
    const items: Bencodable[] = [];
    while (this.buf[this.i] !== E) {
      if (this.i >= this.buf.length) this.fail('unterminated list');
      items.push(this.next(depth + 1));
    }
    this.i++;
    return items;
  }

  private dict(depth: number): { [key: string]: Bencodable } {
    this.i++;
    const dict: { [key: string]: Bencodable } = Object.create(null) as { [key: string]: Bencodable };
    while (this.buf[this.i] !== E) {
      if (this.i >= this.buf.length) this.fail('unterminated dictionary');
      const c = this.buf[this.i]!;
      if (c < 0x30 || c > 0x39) this.fail('dictionary key is not a string');
      const key = this.string();
      dict[key] = this.next(depth + 1);
    }
    this.i++;
    return dict;
  }
}

export function bdecode(buf: Buffer): Bencodable {
  return new Decoder(buf).decode();
}

export function isDict(value: Bencodable | undefined): value is { [key: string]: Bencodable } {
  return typeof value === 'object' && !Array.isArray(value);
}
