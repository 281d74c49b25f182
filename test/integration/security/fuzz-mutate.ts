// Seeded SIP message mutation for the transport fuzz test (fuzz-transports.test.ts) and its longer run
// (bench/fuzz.ts): valid seeds (REGISTER, INVITE with SDP, OPTIONS, BYE, CANCEL, ACK, responses) plus the
// RFC 4475 / RFC 5118 torture messages, each mutated by one to three of: bit flips, truncation, header
// duplication, huge values, CRLF games, Content-Length lies, byte inserts/deletes, token swaps, splices.
// Stream transports also get framing splits (random chunk boundaries, several messages per write).
import { fixtureFiles, readFixture, requireFixtureDir } from '../../support/fixtures.js';

export type Rng = () => number;

const pick = <T>(r: Rng, items: readonly T[]): T => items[Math.floor(r() * items.length)]!;
const int = (r: Rng, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));

const SDP = [
  'v=0', 'o=- 1 1 IN IP4 127.0.30.9', 's=-', 'c=IN IP4 127.0.30.9', 't=0 0', 'm=audio 40000 RTP/AVP 0 8 101',
  'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16', 'a=sendrecv', '',
].join('\r\n');

function message(start: string, headers: string[], body = ''): string {
  return [start, ...headers, `Content-Length: ${Buffer.byteLength(body)}`, '', body].join('\r\n');
}

/** Valid seeds as a phone on `from` (transport `t`) would send them to the gateway at `to`. */
export function validSeeds(t: string, from: string, to: string): Buffer[] {
  const common = (method: string, cseq = 1, toTag = ''): string[] => [
    `Via: SIP/2.0/${t} ${from}:5060;branch=z9hG4bK-fz${method}${cseq};rport`,
    'Max-Forwards: 70',
    `From: "Fuzz" <sip:alice@${to}>;tag=fz1`,
    `To: <sip:5551234@${to}>${toTag}`,
    `Call-ID: fuzz-${method}-${cseq}@${from}`,
    `CSeq: ${cseq} ${method}`,
    `Contact: <sip:alice@${from}:5060;transport=${t.toLowerCase()}>`,
    'User-Agent: fuzz-phone/1.0',
    'Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE',
    'Supported: replaces, timer, 100rel',
  ];
  const auth = `Proxy-Authorization: Digest username="alice", realm="gateway", nonce="AAAAAAAAAAAAAAAAAAAAAAAAAAAA", uri="sip:5551234@${to}", response="0123456789abcdef0123456789abcdef", algorithm=MD5, cnonce="abc", qop=auth, nc=00000001`;
  const seeds = [
    message(`REGISTER sip:${to} SIP/2.0`, [...common('REGISTER'), 'Expires: 600']),
    message(`INVITE sip:5551234@${to} SIP/2.0`, [...common('INVITE'), 'Content-Type: application/sdp', 'Session-Expires: 1800;refresher=uac'], SDP),
    message(`INVITE sip:5551234@${to} SIP/2.0`, [...common('INVITE', 2), auth, 'Content-Type: application/sdp'], SDP),
    message(`OPTIONS sip:${to} SIP/2.0`, [...common('OPTIONS'), 'Accept: application/sdp']),
    message(`BYE sip:5551234@${to} SIP/2.0`, common('BYE', 3, ';tag=gw1')),
    message(`CANCEL sip:5551234@${to} SIP/2.0`, common('CANCEL')),
    message(`ACK sip:5551234@${to} SIP/2.0`, common('ACK', 1, ';tag=gw1')),
    message(`INFO sip:5551234@${to} SIP/2.0`, [...common('INFO', 4, ';tag=gw1'), 'Content-Type: application/dtmf-relay'], 'Signal=5\r\nDuration=160\r\n'),
    message('SIP/2.0 200 OK', [...common('INVITE', 1, ';tag=x1'), 'Content-Type: application/sdp'], SDP),
    message('SIP/2.0 180 Ringing', common('INVITE', 1, ';tag=x1')),
    message('SIP/2.0 401 Unauthorized', [...common('REGISTER'), 'WWW-Authenticate: Digest realm="x", nonce="y", qop="auth"']),
  ];
  return seeds.map((s) => Buffer.from(s, 'latin1'));
}

/** The RFC 4475 and RFC 5118 torture messages (../shared/fixtures; a missing corpus fails the test). */
export function tortureSeeds(): Buffer[] {
  return (['rfc4475', 'rfc5118'] as const).flatMap((name) => {
    const dir = requireFixtureDir(name);
    return fixtureFiles(dir).map((f) => readFixture(dir, f));
  });
}

const INTERESTING = [
  '', '0', '-1', '4294967296', '99999999999999999999', '%00', '%', '\u0000', ';;;;', ',,,,', '<>', '<', '"', '\\',
  'sip:', 'sips:@:', 'tel:+', '[::1', '[::ffff:127.0.0.1]', '255.255.255.255:99999', 'z9hG4bK', '\u00ff\u00fe', '\t \t',
  'Digest', 'Digest realm=', 'a'.repeat(300), 'SIP/2.0', 'SIP/3.0', 'INVITE', '\r', '\n', ' ;tag=', 'application/sdp',
];

const HEADER_NAMES = ['Via', 'v', 'From', 'To', 'Call-ID', 'CSeq', 'Contact', 'Content-Length', 'l', 'Content-Type', 'Max-Forwards', 'Route', 'Record-Route', 'Require', 'Proxy-Authorization', 'Authorization', 'Expires', 'Session-Expires', 'Min-SE', 'RAck', 'Event', 'User-Agent', 'X-Fuzz'];

type Mutator = (r: Rng, m: Buffer) => Buffer;

const lines = (m: Buffer): string[] => m.toString('latin1').split('\r\n');
const join = (l: string[]): Buffer => Buffer.from(l.join('\r\n'), 'latin1');
/** Index of a header line (between the start line and the empty line), or -1. */
function headerLine(r: Rng, l: string[]): number {
  const end = l.indexOf('');
  const last = end < 0 ? l.length : end;
  return last > 1 ? int(r, 1, last - 1) : -1;
}

const MUTATORS: Mutator[] = [
  // Bit flips.
  (r, m) => {
    const out = Buffer.from(m);
    for (let n = int(r, 1, 8); n > 0 && out.length > 0; n--) out[int(r, 0, out.length - 1)]! ^= 1 << int(r, 0, 7);
    return out;
  },
  // Truncation.
  (r, m) => m.subarray(0, int(r, 0, m.length)),
  // Header duplication (a copy, right after or at the end of the header section).
  (r, m) => {
    const l = lines(m);
    const i = headerLine(r, l);
    if (i < 0) return m;
    l.splice(r() < 0.5 ? i + 1 : Math.max(1, l.indexOf('')), 0, ...Array<string>(int(r, 1, 3)).fill(l[i]!));
    return join(l);
  },
  // Huge values: a header value or a new header of up to 70 KB.
  (r, m) => {
    const l = lines(m);
    const big = pick(r, ['a', '9', ';x=y', ',', '<sip:a@b>,', ' ']).repeat(int(r, 100, 70_000 / 4));
    const i = headerLine(r, l);
    if (i < 0 || r() < 0.3) l.splice(1, 0, `${pick(r, HEADER_NAMES)}: ${big}`);
    else l[i] = `${l[i]!}${big}`;
    return join(l);
  },
  // CRLF games: bare LF, bare CR, an early empty line, leading CRLFs, line folding, CRLFs in values.
  (r, m) => {
    const s = m.toString('latin1');
    const games = [
      () => s.replace(/\r\n/g, '\n'),
      () => s.replace(/\r\n/g, '\r'),
      () => s.replace('\r\n', '\r\n\r\n'),
      () => '\r\n'.repeat(int(r, 1, 5)) + s,
      () => s.replace(/\r\n(?=[A-Za-z])/, '\r\n \t'),
      () => s.replace(': ', ':\r\n '),
      () => s.replace(/\r\n\r\n/, '\r\n'),
      () => s + '\r\n'.repeat(int(r, 1, 4)),
    ];
    return Buffer.from(pick(r, games)(), 'latin1');
  },
  // Content-Length lies.
  (r, m) => {
    const s = m.toString('latin1');
    const value = pick(r, ['0', '1', '-5', '99999', '4294967297', 'abc', ' ', '12 34', '1e3', String(int(r, 0, 2000)), '00000000000000000000000012']);
    const replaced = s.replace(/^(Content-Length|l)[ \t]*:[^\r\n]*/im, `Content-Length: ${value}`);
    return Buffer.from(r() < 0.2 ? replaced.replace('\r\n\r\n', `\r\nContent-Length: ${value}\r\n\r\n`) : replaced, 'latin1');
  },
  // Random byte inserts and deletes.
  (r, m) => {
    let out = Buffer.from(m);
    for (let n = int(r, 1, 6); n > 0; n--) {
      const at = int(r, 0, out.length);
      out = r() < 0.5
        ? Buffer.concat([out.subarray(0, at), Buffer.from([int(r, 0, 255)]), out.subarray(at)])
        : Buffer.concat([out.subarray(0, at), out.subarray(Math.min(out.length, at + int(r, 1, 8)))]);
    }
    return out;
  },
  // A token (between separators) replaced by an interesting value.
  (r, m) => {
    const parts = m.toString('latin1').split(/([ :;,<>@="\r\n/])/);
    if (parts.length < 2) return m;
    parts[int(r, 0, parts.length - 1) & ~1] = pick(r, INTERESTING);
    return Buffer.from(parts.join(''), 'latin1');
  },
  // A header line dropped, or moved before the start line.
  (r, m) => {
    const l = lines(m);
    const i = headerLine(r, l);
    if (i < 0) return m;
    const [line] = l.splice(i, 1);
    if (r() < 0.3) l.unshift(line!);
    return join(l);
  },
];

/** One mutated message from a seed: one to three mutations in a row. */
export function mutate(r: Rng, seed: Buffer): Buffer {
  let m = seed;
  for (let n = int(r, 1, 3); n > 0; n--) m = pick(r, MUTATORS)(r, m);
  return m;
}

/** The next fuzz message: a mutated seed (1 in 20 sent unmutated, so the valid paths run too). */
export function nextMessage(r: Rng, seeds: readonly Buffer[]): Buffer {
  const seed = pick(r, seeds);
  return r() < 0.05 ? seed : mutate(r, seed);
}

/** A byte stream of `messages` cut at random boundaries (TCP framing splits): chunks of 1 byte to 4 KB,
 *  a whole message or several in one chunk. */
export function splitStream(r: Rng, messages: readonly Buffer[]): Buffer[] {
  const all = Buffer.concat(messages as Buffer[]);
  const chunks: Buffer[] = [];
  for (let at = 0; at < all.length; ) {
    const size = pick(r, [1, 2, int(r, 3, 64), int(r, 64, 1500), int(r, 1500, 4096), all.length]);
    chunks.push(all.subarray(at, at + size));
    at += size;
  }
  return chunks;
}
