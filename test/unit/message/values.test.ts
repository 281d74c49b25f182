// Value parsers: URI, name-addr, Via, CSeq, params.
import { describe, expect, it } from 'vitest';
import {
  SipParseError,
  formatNameAddr,
  formatUri,
  formatVia,
  parseCSeq,
  parseNameAddr,
  parseParams,
  parseUri,
  parseVia,
  unquote,
} from '../../../gateway/sip/message/index.js';

function reasonOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof SipParseError) return e.reason;
    throw e;
  }
  throw new Error('expected SipParseError');
}

describe('parseUri / formatUri', () => {
  it('parses a full SIP URI', () => {
    expect(parseUri('SIP:alice:secret@Example.com:5070;transport=TCP;lr?Subject=hi%20there&Priority=urgent')).toEqual({
      scheme: 'sip',
      user: 'alice',
      password: 'secret',
      host: 'Example.com',
      port: 5070,
      params: { transport: 'TCP', lr: null },
      headers: { Subject: 'hi there', Priority: 'urgent' },
    });
  });

  it('keeps IPv6 brackets and reads the port after them (RFC 5118)', () => {
    expect(parseUri('sips:[2001:db8::1]:5061')).toMatchObject({ scheme: 'sips', host: '[2001:db8::1]', port: 5061 });
    expect(reasonOf(() => parseUri('sip:[2001:db8:::1.2.3.4]'))).toMatch(/invalid IPv6 reference/);
    expect(reasonOf(() => parseUri('sip:[::1'))).toMatch(/invalid IPv6 reference/);
  });

  it('parses tel: URIs with the number as host', () => {
    expect(parseUri('tel:+1-201-555-0123;phone-context=example.com')).toEqual({
      scheme: 'tel',
      host: '+1-201-555-0123',
      params: { 'phone-context': 'example.com' },
      headers: {},
    });
  });

  it('rejects malformed URIs with a reason', () => {
    expect(reasonOf(() => parseUri('<sip:a@b>'))).toMatch(/scheme/);
    expect(reasonOf(() => parseUri('sip:'))).toMatch(/missing host/);
    expect(reasonOf(() => parseUri('sip:a@b:99999'))).toMatch(/port out of range/);
    expect(reasonOf(() => parseUri('sip:a b@c'))).toMatch(/user part/);
    expect(reasonOf(() => parseUri('sip:a%zz@c'))).toMatch(/escape/);
    expect(reasonOf(() => parseUri('sip:host;lr x'))).toMatch(/unexpected/);
    expect(reasonOf(() => parseUri('sip:@host'))).toMatch(/user part/);
  });

  it('round-trips through formatUri, escaping what needs it', () => {
    const samples = [
      'sip:alice@example.com',
      'sip:I%20have%20spaces@example.net;n%61me=v%61lue%25%34%31',
      'sips:bob:pw@[2001:db8::1]:5061;transport=tls?Route=%3Csip:x.example.com%3E',
      'sip:user;par=u%40example.net@example.com',
      'tel:+15551234;ext=7',
      'urn:service:sos',
    ];
    for (const s of samples) {
      const uri = parseUri(s);
      expect(parseUri(formatUri(uri))).toEqual(uri);
    }
    expect(formatUri(parseUri('sip:%75ser@h'))).toBe('sip:user@h');
    expect(formatUri({ scheme: 'sip', user: 'a b@c', host: 'h', params: {}, headers: {} })).toBe('sip:a%20b%40c@h');
  });

  it('treats a parameter named __proto__ as data', () => {
    const uri = parseUri('sip:h;__proto__=x');
    expect(uri.params['__proto__']).toBe('x');
    expect(Object.keys(uri.params)).toEqual(['__proto__']);
  });
});

describe('parseNameAddr / formatNameAddr', () => {
  it('parses quoted display names with escapes', () => {
    expect(parseNameAddr('"Bob \\"B\\" \\\\ Smith" <sip:bob@example.com>;tag=a1')).toEqual({
      displayName: 'Bob "B" \\ Smith',
      uri: { scheme: 'sip', user: 'bob', host: 'example.com', params: {}, headers: {} },
      params: { tag: 'a1' },
    });
  });

  it('parses token display names and a bare addr-spec whose ;params are header params (RFC 3261 §20.10)', () => {
    expect(parseNameAddr('Alice  Smith <sip:a@h;transport=udp>;Expires=60')).toMatchObject({
      displayName: 'Alice Smith',
      uri: { params: { transport: 'udp' } },
      params: { expires: '60' },
    });
    const bare = parseNameAddr('sip:a@h;tag=x;lr');
    expect(bare.uri.params).toEqual({});
    expect(bare.params).toEqual({ tag: 'x', lr: null });
    expect(bare.displayName).toBeUndefined();
  });

  it('keeps quoted param values quoted; unquote() removes them', () => {
    const na = parseNameAddr('<sip:a@h>;+sip.instance="<urn:uuid:1234>";q=0.5');
    expect(na.params['+sip.instance']).toBe('"<urn:uuid:1234>"');
    expect(unquote(na.params['+sip.instance'] ?? '')).toBe('<urn:uuid:1234>');
  });

  it('rejects malformed values with a reason', () => {
    expect(reasonOf(() => parseNameAddr('"unterminated <sip:a@h>'))).toMatch(/unterminated quoted string/);
    expect(reasonOf(() => parseNameAddr('Bell, Alexander <sip:a@h>'))).toMatch(/display name/);
    expect(reasonOf(() => parseNameAddr('< sip:a@h >'))).toMatch(/whitespace inside <>/);
    expect(reasonOf(() => parseNameAddr('<sip:a@h'))).toMatch(/missing '>'/);
    expect(reasonOf(() => parseNameAddr('sip:a@h?x=y'))).toMatch(/enclosed in <>/);
    expect(reasonOf(() => parseNameAddr('<sip:a@h>;;'))).toMatch(/parameter name/);
    expect(reasonOf(() => parseNameAddr('<sip:a@h> junk'))).toMatch(/unexpected/);
    expect(reasonOf(() => parseNameAddr(''))).toMatch(/missing URI/);
  });

  it('round-trips through formatNameAddr', () => {
    const samples = [
      '"A \\"q\\"" <sip:a@h;lr>;tag=1;foo="bar baz"',
      'sip:a@h;tag=2',
      'Anonymous <sip:anonymous@anonymous.invalid>',
      '"" <tel:+123>;x',
    ];
    for (const s of samples) {
      const na = parseNameAddr(s);
      expect(parseNameAddr(formatNameAddr(na))).toEqual(na);
    }
    expect(formatNameAddr(parseNameAddr('sip:a@h;tag=2'))).toBe('<sip:a@h>;tag=2');
  });
});

describe('parseVia / formatVia', () => {
  it('parses sent-protocol, sent-by and params, with LWS around separators', () => {
    expect(parseVia('SIP / 2.0 / udp  host.example.com : 5060 ; branch = z9hG4bK1 ;rport;received=1.2.3.4')).toEqual({
      protocol: 'SIP/2.0',
      transport: 'UDP',
      host: 'host.example.com',
      port: 5060,
      params: { branch: 'z9hG4bK1', rport: null, received: '1.2.3.4' },
    });
  });

  it('parses IPv6 sent-by and WS transport', () => {
    expect(parseVia('SIP/2.0/WSS [::1]:443;branch=z9hG4bKx')).toMatchObject({ transport: 'WSS', host: '[::1]', port: 443 });
  });

  it('rejects malformed values', () => {
    expect(reasonOf(() => parseVia('SIP/2.0 host'))).toMatch(/^Bad Via: .*'\/'/);
    expect(reasonOf(() => parseVia('SIP/2.0/UDP'))).toMatch(/whitespace before sent-by|missing/);
    expect(reasonOf(() => parseVia('SIP/2.0/UDP h;;'))).toMatch(/parameter name/);
    expect(reasonOf(() => parseVia('SIP/2.0/UDP h:abc'))).toMatch(/port/);
    expect(reasonOf(() => parseVia(''))).toMatch(/protocol name/);
  });

  it('round-trips', () => {
    const v = parseVia('SIP/2.0/TCP [2001:db8::1]:5060;branch=z9hG4bKab;received=[2001:db8::2];rport=5060');
    expect(formatVia(v)).toBe('SIP/2.0/TCP [2001:db8::1]:5060;branch=z9hG4bKab;received=[2001:db8::2];rport=5060');
    expect(parseVia(formatVia(v))).toEqual(v);
  });
});

describe('parseCSeq and generic params', () => {
  it('parses CSeq with leading zeros and LWS', () => {
    expect(parseCSeq('0009  INVITE')).toEqual({ seq: 9, method: 'INVITE' });
    expect(parseCSeq(String(2 ** 31 - 1) + ' BYE').seq).toBe(2 ** 31 - 1);
  });

  it('rejects bad CSeq values (RFC 3261 §8.1.1.5: less than 2**31)', () => {
    expect(reasonOf(() => parseCSeq(`${2 ** 31} INVITE`))).toBe('Bad CSeq: sequence number out of range');
    expect(reasonOf(() => parseCSeq('INVITE'))).toMatch(/sequence number/);
    expect(reasonOf(() => parseCSeq('1'))).toMatch(/missing method/);
    expect(reasonOf(() => parseCSeq('1 INVITE x'))).toMatch(/unexpected/);
  });

  it('parses header params generically', () => {
    expect(parseParams(' ; a = 1 ;B;c="x;y"')).toEqual({ a: '1', b: null, c: '"x;y"' });
    expect(parseParams('')).toEqual({});
    expect(reasonOf(() => parseParams(';a=', 'Bad X'))).toMatch(/^Bad X: .*value of parameter 'a'/);
  });
});
