// Header access helpers, compact forms, list splitting.
import { describe, expect, it } from 'vitest';
import {
  type SipRequest,
  addHeader,
  canonicalName,
  getCSeq,
  getCallId,
  getContacts,
  getExpires,
  getFrom,
  getHeader,
  getHeaderValues,
  getMaxForwards,
  getTo,
  getTopVia,
  getVias,
  parseMessage,
  removeHeader,
  setHeader,
  splitList,
} from '../../../gateway/sip/message/index.js';

function msg(lines: string[], body = ''): Buffer {
  return Buffer.from(lines.join('\r\n') + '\r\n\r\n' + body, 'utf8');
}

const BASE = [
  'INVITE sip:bob@example.com SIP/2.0',
  'v: SIP/2.0/UDP a.example.com;branch=z9hG4bK1, SIP/2.0/TCP b.example.com;branch=z9hG4bK2',
  'Via: SIP/2.0/UDP c.example.com;branch=z9hG4bK3',
  'f: "Alice, A." <sip:alice@example.com>;tag=f1',
  't: <sip:bob@example.com>',
  'i: abc@host',
  'CSeq: 1 INVITE',
  'Max-Forwards: 70',
  'm: "Desk, 1" <sip:alice@1.2.3.4>;q=0.5, <sip:alice@5.6.7.8>;expires=30',
  'k: timer, 100rel',
  'WWW-Authenticate: Digest realm="a, b", nonce="x", algorithm=MD5',
  'Date: Sat, 15 Oct 2005 04:44:56 GMT',
  'Expires: 300',
  'l: 0',
];

describe('compact forms and canonical names', () => {
  it('expands every compact form to its long name', () => {
    const expected: Record<string, string> = {
      i: 'Call-ID', m: 'Contact', e: 'Content-Encoding', l: 'Content-Length', c: 'Content-Type', f: 'From',
      s: 'Subject', k: 'Supported', t: 'To', v: 'Via', o: 'Event', u: 'Allow-Events', r: 'Refer-To',
      b: 'Referred-By', x: 'Session-Expires', j: 'Reject-Contact', a: 'Accept-Contact', d: 'Request-Disposition',
      y: 'Identity', n: 'Identity-Info',
    };
    for (const [short, long] of Object.entries(expected)) {
      expect(canonicalName(short)).toBe(long);
      expect(canonicalName(short.toUpperCase())).toBe(long);
    }
  });

  it('capitalises known headers canonically and leaves unknown names alone', () => {
    expect(canonicalName('call-id')).toBe('Call-ID');
    expect(canonicalName('CSEQ')).toBe('CSeq');
    expect(canonicalName('www-authenticate')).toBe('WWW-Authenticate');
    expect(canonicalName('max-forwards')).toBe('Max-Forwards');
    expect(canonicalName('X-Custom-thing')).toBe('X-Custom-thing');
  });

  it('stores parsed compact headers under their long names', () => {
    const m = parseMessage(msg(BASE));
    expect(m.headers.map((h) => h.name)).toEqual([
      'Via', 'Via', 'From', 'To', 'Call-ID', 'CSeq', 'Max-Forwards', 'Contact', 'Supported', 'WWW-Authenticate',
      'Date', 'Expires', 'Content-Length',
    ]);
  });
});

describe('header getters', () => {
  const m = parseMessage(msg(BASE));

  it('matches names case-insensitively and accepts compact forms', () => {
    expect(getHeader(m, 'call-id')).toBe('abc@host');
    expect(getHeader(m, 'I')).toBe('abc@host');
    expect(getHeader(m, 'VIA')).toBe('SIP/2.0/UDP a.example.com;branch=z9hG4bK1');
    expect(getHeader(m, 'X-Missing')).toBeUndefined();
  });

  it('splits list headers at commas outside quotes and <>, never auth/Date headers', () => {
    expect(getHeaderValues(m, 'Via')).toHaveLength(3);
    expect(getHeaderValues(m, 'm')).toEqual(['"Desk, 1" <sip:alice@1.2.3.4>;q=0.5', '<sip:alice@5.6.7.8>;expires=30']);
    expect(getHeaderValues(m, 'Supported')).toEqual(['timer', '100rel']);
    expect(getHeaderValues(m, 'WWW-Authenticate')).toEqual(['Digest realm="a, b", nonce="x", algorithm=MD5']);
    expect(getHeaderValues(m, 'Date')).toEqual(['Sat, 15 Oct 2005 04:44:56 GMT']);
    expect(getHeaderValues(m, 'From')).toEqual(['"Alice, A." <sip:alice@example.com>;tag=f1']);
  });

  it('splitList respects quoted-pairs and angle brackets', () => {
    expect(splitList('"a \\" , b" <sip:x>, <sip:y;p=1,2>, z')).toEqual(['"a \\" , b" <sip:x>', '<sip:y;p=1,2>', 'z']);
    expect(splitList('a,,b')).toEqual(['a', '', 'b']);
  });

  it('typed getters', () => {
    expect(getVias(m).map((v) => v.host)).toEqual(['a.example.com', 'b.example.com', 'c.example.com']);
    expect(getTopVia(m)?.params.branch).toBe('z9hG4bK1');
    expect(getFrom(m)).toMatchObject({ displayName: 'Alice, A.', params: { tag: 'f1' } });
    expect(getTo(m).params).toEqual({});
    expect(getCallId(m)).toBe('abc@host');
    expect(getCSeq(m)).toEqual({ seq: 1, method: 'INVITE' });
    expect(getMaxForwards(m)).toBe(70);
    expect(getExpires(m)).toBe(300);
    const contacts = getContacts(m);
    expect(contacts !== '*' && contacts.map((c) => [c.uri.host, c.params])).toEqual([
      ['1.2.3.4', { q: '0.5' }],
      ['5.6.7.8', { expires: '30' }],
    ]);
  });

  it('getContacts handles the REGISTER wildcard', () => {
    const reg = parseMessage(
      msg([
        'REGISTER sip:example.com SIP/2.0',
        'Via: SIP/2.0/UDP h;branch=z9hG4bKr',
        'From: <sip:a@example.com>;tag=1',
        'To: <sip:a@example.com>',
        'Call-ID: r1',
        'CSeq: 2 REGISTER',
        'Max-Forwards: 70',
        'Contact: *',
        'Expires: 0',
        'Content-Length: 0',
      ]),
    );
    expect(getContacts(reg)).toBe('*');
    expect(() => getContacts({ headers: [{ name: 'Contact', value: '*, <sip:a@b>' }] })).toThrow(/only Contact/);
    expect(getContacts({ headers: [] })).toEqual([]);
  });

  it('missing mandatory headers throw a clear error', () => {
    expect(() => getFrom({ headers: [] })).toThrow(/Missing From header/);
    expect(getTopVia({ headers: [] })).toBeUndefined();
    expect(getMaxForwards({ headers: [] })).toBeUndefined();
  });
});

describe('header mutation', () => {
  function fresh(): SipRequest {
    return parseMessage(msg(BASE)) as SipRequest;
  }

  it('setHeader replaces all fields of that name at the first position', () => {
    const m = fresh();
    setHeader(m, 'via', 'SIP/2.0/UDP only;branch=z9hG4bKo');
    expect(m.headers.filter((h) => h.name === 'Via')).toEqual([{ name: 'Via', value: 'SIP/2.0/UDP only;branch=z9hG4bKo' }]);
    expect(m.headers[0]?.name).toBe('Via');
    setHeader(m, 'x-new', '1');
    expect(m.headers.at(-1)).toEqual({ name: 'x-new', value: '1' });
  });

  it('addHeader appends after the last of its name, or prepends before the first', () => {
    const m = fresh();
    addHeader(m, 'v', 'SIP/2.0/UDP top;branch=z9hG4bKt', { prepend: true });
    expect(getTopVia(m)?.host).toBe('top');
    addHeader(m, 'Via', 'SIP/2.0/UDP bottom;branch=z9hG4bKb');
    expect(getVias(m).map((v) => v.host)).toEqual(['top', 'a.example.com', 'b.example.com', 'c.example.com', 'bottom']);
    addHeader(m, 'Record-Route', '<sip:p1;lr>', { prepend: true });
    expect(m.headers[0]).toEqual({ name: 'Record-Route', value: '<sip:p1;lr>' });
  });

  it('removeHeader removes every field and reports the count', () => {
    const m = fresh();
    expect(removeHeader(m, 'v')).toBe(2);
    expect(getHeader(m, 'Via')).toBeUndefined();
    expect(removeHeader(m, 'Via')).toBe(0);
  });
});
