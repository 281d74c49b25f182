// serializeMessage, round trips, byte-exact bodies and datagram/stream body rules.
import { describe, expect, it } from 'vitest';
import {
  type SipMessage,
  SipParseError,
  getHeader,
  parseMessage,
  serializeMessage,
} from '../../../gateway/sip/message/index.js';
import { fixtureFiles, readFixture, requireFixtureDir } from './fixtures.js';

const HEAD = [
  'MESSAGE sip:bob@example.com SIP/2.0',
  'Via: SIP/2.0/TCP h.example.com;branch=z9hG4bKm1',
  'From: <sip:alice@example.com>;tag=a',
  'To: <sip:bob@example.com>',
  'Call-ID: m1@h',
  'CSeq: 1 MESSAGE',
  'Max-Forwards: 70',
  'Content-Type: text/plain;charset=utf-8',
];

function withBody(body: Buffer, contentLength?: number): Buffer {
  const cl = contentLength === undefined ? [] : [`Content-Length: ${contentLength}`];
  return Buffer.concat([Buffer.from([...HEAD, ...cl].join('\r\n') + '\r\n\r\n'), body]);
}

function parseError(buf: Buffer, stream = false): SipParseError {
  try {
    parseMessage(buf, { stream });
  } catch (e) {
    if (e instanceof SipParseError) return e;
    throw e;
  }
  throw new Error('expected SipParseError');
}

describe('Content-Length counts bytes', () => {
  const text = 'héllo wörld — 你好 🎉';
  const body = Buffer.from(text, 'utf8');

  it('parses a multi-byte UTF-8 body by its octet count', () => {
    expect(body.length).toBeGreaterThan(text.length);
    const m = parseMessage(withBody(body, body.length));
    expect(m.body.equals(body)).toBe(true);
    expect(m.body.toString('utf8')).toBe(text);
  });

  it('serializes Content-Length from body.length in octets, replacing a wrong one', () => {
    const m = parseMessage(withBody(body, body.length));
    const idx = m.headers.findIndex((h) => h.name === 'Content-Length');
    m.headers[idx] = { name: 'l', value: String(text.length) };
    const out = serializeMessage(m).toString('latin1');
    expect(out).toContain(`\r\nContent-Length: ${body.length}\r\n`);
    expect(out.match(/Content-Length/g)).toHaveLength(1);
  });

  it('adds Content-Length when absent', () => {
    const m = parseMessage(withBody(Buffer.alloc(0)));
    const out = serializeMessage(m).toString();
    expect(out.endsWith('Content-Length: 0\r\n\r\n')).toBe(true);
  });
});

describe('datagram and stream body rules (RFC 3261 §18.3)', () => {
  const body = Buffer.from('0123456789');

  it('datagram without Content-Length: the body is the rest', () => {
    expect(parseMessage(withBody(body)).body.toString()).toBe('0123456789');
  });

  it('datagram with a smaller Content-Length: extra octets are discarded', () => {
    expect(parseMessage(withBody(body, 4)).body.toString()).toBe('0123');
  });

  it('Content-Length larger than the bytes is an error', () => {
    expect(parseError(withBody(body, 11)).reason).toBe('Content-Length larger than body (11 > 10 bytes)');
  });

  it('stream without Content-Length is an error', () => {
    expect(parseError(withBody(body), true).reason).toMatch(/Missing Content-Length/);
    expect(parseMessage(withBody(body, 10), { stream: true }).body.length).toBe(10);
  });
});

describe('parse errors', () => {
  it('names the fault and keeps the headers parsed so far', () => {
    const e = parseError(Buffer.from('INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nBad Line\r\n\r\n'));
    expect(e.reason).toBe("Bad header line: missing ':' after Bad");
    expect(e.partial).toMatchObject({ method: 'INVITE', isRequest: true, headers: [{ name: 'Via' }] });
  });

  it('rejects empty input and garbage without crashing', () => {
    expect(parseError(Buffer.alloc(0)).reason).toBe('Empty message');
    expect(parseError(Buffer.from('\r\n\r\n')).reason).toBe('Empty message');
    expect(parseError(Buffer.from('hello')).reason).toMatch(/Missing empty line/);
    expect(parseError(Buffer.from('\x00\xff\r\n\r\n')).reason).toMatch(/Request-Line/);
    expect(parseError(Buffer.from('INVITE sip:a@b SIP/2.0\r\n folded\r\n\r\n')).reason).toMatch(/continuation/);
    expect(parseError(Buffer.from('INVITE sip:a@b SIP/2.0\r\nSubject: a\rb\r\n\r\n')).reason).toBe('Bad header line: bare CR');
  });

  it('requires Max-Forwards only when asked (RFC 2543 compatibility)', async () => {
    const { validateRequest } = await import('../../../gateway/sip/message/index.js');
    const lines = HEAD.filter((l) => !l.startsWith('Max-Forwards'));
    const m = parseMessage(Buffer.from(lines.join('\r\n') + '\r\n\r\n'));
    expect(m.kind).toBe('request');
    expect(() => validateRequest(m as never, { requireMaxForwards: true })).toThrow(/Missing Max-Forwards header/);
  });

  it('rejects a response with a bad version as 505 and a bad code as 400', () => {
    const tail = '\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: x\r\nCSeq: 1 BYE\r\n\r\n';
    expect(parseError(Buffer.from('SIP/3.0 200 OK' + tail)).status).toBe(505);
    expect(parseError(Buffer.from('SIP/2.0 20 OK' + tail)).reason).toMatch(/Status-Code/);
    expect(parseError(Buffer.from('SIP/2.0 700 Huh' + tail)).reason).toMatch(/Status-Code/);
    expect(parseMessage(Buffer.from('SIP/2.0 486 Busy Here' + tail))).toMatchObject({ status: 486, reason: 'Busy Here' });
  });

  it('tolerates bare LF line ends and leading CRLFs', () => {
    const m = parseMessage(Buffer.from('\r\n\r\n' + [...HEAD, 'Content-Length: 2'].join('\n') + '\n\nhi'));
    expect(m.kind === 'request' && m.method).toBe('MESSAGE');
    expect(m.body.toString()).toBe('hi');
  });
});

describe('serializer', () => {
  it('writes start line, long header names in order, CRLF and the body bytes', () => {
    const m: SipMessage = {
      kind: 'response',
      status: 200,
      reason: 'OK',
      version: 'SIP/2.0',
      headers: [
        { name: 'v', value: 'SIP/2.0/UDP h;branch=z9hG4bK1' },
        { name: 'f', value: '<sip:a@b>;tag=1' },
        { name: 't', value: '<sip:c@d>;tag=2' },
        { name: 'i', value: 'x' },
        { name: 'CSeq', value: '1 BYE' },
      ],
      body: Buffer.from([0, 1, 2, 255]),
    };
    const out = serializeMessage(m);
    const head = 'SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\n' +
      'To: <sip:c@d>;tag=2\r\nCall-ID: x\r\nCSeq: 1 BYE\r\nContent-Length: 4\r\n\r\n';
    expect(out.subarray(0, out.length - 4).toString('latin1')).toBe(head);
    expect(out.subarray(out.length - 4).equals(Buffer.from([0, 1, 2, 255]))).toBe(true);
  });

  it('refuses CR/LF inside a header value (header injection)', () => {
    const m = parseMessage(withBody(Buffer.alloc(0), 0));
    m.headers.push({ name: 'Subject', value: 'a\r\nVia: evil' });
    expect(() => serializeMessage(m)).toThrow(/CR\/LF in Subject/);
  });

  it('round-trips a compact-form message keeping every field', () => {
    const raw = Buffer.from(
      'BYE sip:b@h SIP/2.0\r\nv: SIP/2.0/UDP h;branch=z9hG4bK9\r\nf: <sip:a@h>;tag=1\r\nt: <sip:b@h>;tag=2\r\n' +
        'i: c1\r\nCSeq: 3 BYE\r\nMax-Forwards: 70\r\nX-Thing: one, two\r\nl: 0\r\n\r\n',
    );
    const first = parseMessage(raw);
    const again = parseMessage(serializeMessage(first));
    expect(again).toEqual(first);
    expect(getHeader(again, 'X-Thing')).toBe('one, two');
  });
});

describe.each(['rfc4475', 'rfc5118'] as const)('round trip of every valid %s message', (name) => {
  it(`parse → serialize → parse keeps every field (${name})`, () => {
    const dir = requireFixtureDir(name);
    let valid = 0;
    for (const file of fixtureFiles(dir)) {
      let first: SipMessage;
      try {
        first = parseMessage(readFixture(dir, file));
      } catch {
        continue;
      }
      valid++;
      const again = parseMessage(serializeMessage(first));
      const strip = (m: SipMessage) => ({ ...m, headers: m.headers.filter((h) => h.name !== 'Content-Length') });
      expect(strip(again), file).toEqual(strip(first));
      expect(getHeader(again, 'Content-Length'), file).toBe(String(first.body.length));
    }
    expect(valid).toBe(name === 'rfc4475' ? 27 : 10);
  });
});
