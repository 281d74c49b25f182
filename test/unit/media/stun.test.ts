// STUN codec against the RFC 5769 test vectors, and the ICE-lite Binding responder.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  ATTR,
  buildBindingRequest,
  buildStun,
  checkFingerprint,
  decodeErrorCode,
  decodeXorAddress,
  encodeMessageType,
  encodeXorAddress,
  getAttribute,
  handleBindingRequest,
  isStun,
  parseStun,
  verifyMessageIntegrity,
  type StunMessage,
} from '../../../gateway/media/stun/index.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const PASSWORD = 'VOkJxbRl1RmTxUk/WvJxBt'; // RFC 5769 §2: short-term password of all three vectors
const TXID = hex('b7 e7 a7 01 bc 34 d6 86 fa 87 df ae');

// RFC 5769 §2.1 Sample Request (SOFTWARE, PRIORITY, ICE-CONTROLLED, USERNAME "evtj:h6vY", MI, FINGERPRINT).
const REQUEST = hex(`00 01 00 58 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
  80 22 00 10 53 54 55 4e 20 74 65 73 74 20 63 6c 69 65 6e 74
  00 24 00 04 6e 00 01 ff
  80 29 00 08 93 2f f9 b1 51 26 3b 36
  00 06 00 09 65 76 74 6a 3a 68 36 76 59 20 20 20
  00 08 00 14 9a ea a7 0c bf d8 cb 56 78 1e f2 b5 b2 d3 f2 49 c1 b5 71 a2
  80 28 00 04 e5 7a 3b cf`);
// RFC 5769 §2.2 Sample IPv4 Response: XOR-MAPPED-ADDRESS 192.0.2.1 port 32853.
const IPV4_RESPONSE = hex(`01 01 00 3c 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
  80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
  00 20 00 08 00 01 a1 47 e1 12 a6 43
  00 08 00 14 2b 91 f5 99 fd 9e 90 c3 8c 74 89 f9 2a f9 ba 53 f0 6b e7 d7
  80 28 00 04 c0 7d 4c 96`);
// RFC 5769 §2.3 Sample IPv6 Response: 2001:db8:1234:5678:11:2233:4455:6677 port 32853.
const IPV6_RESPONSE = hex(`01 01 00 48 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
  80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
  00 20 00 14 00 02 a1 47 01 13 a9 fa a5 d3 f1 79 bc 25 f4 b5 be d2 b9 d9
  00 08 00 14 a3 82 95 4e 4b e6 7b f1 17 84 c9 7c 82 92 c2 75 bf e3 ed 41
  80 28 00 04 c8 fb 0b 4c`);

function parse(buf: Buffer): StunMessage {
  const r = parseStun(buf);
  if (!r.ok) throw new Error(r.reason);
  return r.message;
}

describe('RFC 5769 test vectors', () => {
  it('§2.1 request: header, attributes, MESSAGE-INTEGRITY and FINGERPRINT', () => {
    const m = parse(REQUEST);
    expect([m.method, m.cls]).toEqual([1, 'request']);
    expect(m.transactionId.equals(TXID)).toBe(true);
    expect(getAttribute(m, ATTR.USERNAME)?.value.toString()).toBe('evtj:h6vY');
    expect(getAttribute(m, ATTR.SOFTWARE)?.value.toString()).toBe('STUN test client');
    expect(getAttribute(m, ATTR.PRIORITY)?.value.readUInt32BE(0)).toBe(0x6e0001ff);
    expect(getAttribute(m, ATTR.ICE_CONTROLLED)?.value.toString('hex')).toBe('932ff9b151263b36');
    expect(verifyMessageIntegrity(m, PASSWORD)).toBe(true);
    expect(verifyMessageIntegrity(m, 'wrong')).toBe(false);
    expect(checkFingerprint(m)).toBe('valid');
  });

  it('§2.2 IPv4 response: XOR-MAPPED-ADDRESS decodes to 192.0.2.1:32853 and re-encodes', () => {
    const m = parse(IPV4_RESPONSE);
    expect(m.cls).toBe('success');
    const xma = getAttribute(m, ATTR.XOR_MAPPED_ADDRESS)!.value;
    expect(decodeXorAddress(xma, m.transactionId)).toEqual({ family: 'IPv4', address: '192.0.2.1', port: 32853 });
    expect(encodeXorAddress({ address: '192.0.2.1', port: 32853 }, TXID).equals(xma)).toBe(true);
    expect(verifyMessageIntegrity(m, PASSWORD)).toBe(true);
    expect(checkFingerprint(m)).toBe('valid');
  });

  it('§2.3 IPv6 response: XOR-MAPPED-ADDRESS decodes and re-encodes', () => {
    const m = parse(IPV6_RESPONSE);
    const xma = getAttribute(m, ATTR.XOR_MAPPED_ADDRESS)!.value;
    const addr = { family: 'IPv6', address: '2001:db8:1234:5678:11:2233:4455:6677', port: 32853 };
    expect(decodeXorAddress(xma, m.transactionId)).toEqual(addr);
    expect(encodeXorAddress(addr, TXID).equals(xma)).toBe(true);
    expect(verifyMessageIntegrity(m, PASSWORD)).toBe(true);
    expect(checkFingerprint(m)).toBe('valid');
  });

  it('a flipped bit breaks the FINGERPRINT and the MESSAGE-INTEGRITY', () => {
    const bad = Buffer.from(REQUEST);
    bad[30] ^= 1;
    const m = parse(bad);
    expect(checkFingerprint(m)).toBe('invalid');
    expect(verifyMessageIntegrity(m, PASSWORD)).toBe(false);
  });
});

describe('codec', () => {
  it('isStun needs first byte 0..3, the magic cookie and 20 bytes', () => {
    expect(isStun(REQUEST)).toBe(true);
    expect(isStun(REQUEST.subarray(0, 19))).toBe(false);
    const noCookie = Buffer.from(REQUEST);
    noCookie[5] = 0;
    expect(isStun(noCookie)).toBe(false);
    const rtp = Buffer.from(REQUEST);
    rtp[0] = 0x80;
    expect(isStun(rtp)).toBe(false);
  });

  it('message type interleaves method and class bits (RFC 5389 §6)', () => {
    expect(encodeMessageType(1, 'request')).toBe(0x0001);
    expect(encodeMessageType(1, 'indication')).toBe(0x0011);
    expect(encodeMessageType(1, 'success')).toBe(0x0101);
    expect(encodeMessageType(1, 'error')).toBe(0x0111);
    expect(encodeMessageType(0x003, 'request')).toBe(0x0003); // TURN Allocate
  });

  it('parse reports why a message is malformed, never throws', () => {
    const r1 = parseStun(Buffer.concat([REQUEST, Buffer.alloc(4)]));
    expect(r1.ok ? '' : r1.reason).toMatch(/length field/);
    const overrun = Buffer.from(REQUEST);
    overrun.writeUInt16BE(0x0100, 22); // SOFTWARE length 256
    const r2 = parseStun(overrun);
    expect(r2.ok ? '' : r2.reason).toMatch(/overruns/);
    for (let i = 0; i < 300; i++) parseStun(randomBytes(i % 64));
    expect(parseStun(Buffer.alloc(3)).ok).toBe(false);
  });

  it('buildStun pads attributes and its MI / FINGERPRINT verify', () => {
    const msg = buildStun({
      cls: 'request',
      transactionId: TXID,
      attributes: [{ type: ATTR.USERNAME, value: Buffer.from('abc:de') }],
      integrityKey: 'pw',
      fingerprint: true,
    });
    expect(msg.length).toBe(20 + 12 + 24 + 8);
    const m = parse(msg);
    expect(getAttribute(m, ATTR.USERNAME)?.value.toString()).toBe('abc:de');
    expect(verifyMessageIntegrity(m, 'pw')).toBe(true);
    expect(checkFingerprint(m)).toBe('valid');
  });
});

describe('handleBindingRequest (ICE-lite responder)', () => {
  const creds = { localUfrag: 'LFRG', localPwd: 'local-password-0123456789' };
  const remote = { address: '127.0.0.1', port: 50000, family: 'IPv4' as const };
  const request = (o: Partial<Parameters<typeof buildBindingRequest>[0]> = {}) =>
    buildBindingRequest({ username: 'LFRG:RFRG', password: creds.localPwd, controlling: 42n, ...o });

  it('answers a valid request with XOR-MAPPED-ADDRESS, MI and FINGERPRINT', () => {
    const req = request({ useCandidate: true });
    const r = handleBindingRequest(req, remote, { ...creds, remoteUfrag: 'RFRG' })!;
    expect(r.valid).toBe(true);
    expect(r.useCandidate).toBe(true);
    const m = parse(r.response);
    expect(m.cls).toBe('success');
    expect(m.transactionId.equals(req.subarray(8, 20))).toBe(true);
    const xma = getAttribute(m, ATTR.XOR_MAPPED_ADDRESS)!.value;
    expect(decodeXorAddress(xma, m.transactionId)).toEqual({ family: 'IPv4', address: '127.0.0.1', port: 50000 });
    expect(verifyMessageIntegrity(m, creds.localPwd)).toBe(true);
    expect(checkFingerprint(m)).toBe('valid');
  });

  it('reports useCandidate false without USE-CANDIDATE, and maps IPv6 / IPv4-mapped remotes', () => {
    const r = handleBindingRequest(request(), { address: '::1', port: 9, family: 'IPv6' }, creds)!;
    expect([r.valid, r.useCandidate]).toEqual([true, false]);
    const m = parse(r.response);
    expect(decodeXorAddress(getAttribute(m, ATTR.XOR_MAPPED_ADDRESS)!.value, m.transactionId)?.address).toBe('::1');
    const r2 = handleBindingRequest(request(), { address: '::ffff:127.0.0.1', port: 9, family: 'IPv6' }, creds)!;
    const m2 = parse(r2.response);
    expect(decodeXorAddress(getAttribute(m2, ATTR.XOR_MAPPED_ADDRESS)!.value, m2.transactionId)?.address).toBe('127.0.0.1');
  });

  it('accepts the RFC 5769 §2.1 request for ufrag "evtj" and its password', () => {
    const r = handleBindingRequest(REQUEST, remote, { localUfrag: 'evtj', localPwd: PASSWORD, remoteUfrag: 'h6vY' });
    expect(r?.valid).toBe(true);
  });

  function expectError(r: ReturnType<typeof handleBindingRequest>, code: number, withMi: boolean): StunMessage {
    expect(r?.valid).toBe(false);
    const m = parse(r!.response);
    expect(m.cls).toBe('error');
    expect(decodeErrorCode(getAttribute(m, ATTR.ERROR_CODE)!.value)?.code).toBe(code);
    expect(getAttribute(m, ATTR.MESSAGE_INTEGRITY) !== undefined).toBe(withMi);
    expect(checkFingerprint(m)).toBe('valid');
    return m;
  }

  it('wrong password → 401 without MESSAGE-INTEGRITY', () => {
    expectError(handleBindingRequest(request({ password: 'nope' }), remote, creds), 401, false);
  });

  it('wrong USERNAME → 401 (local ufrag, or remote ufrag when known)', () => {
    expectError(handleBindingRequest(request({ username: 'OTHER:RFRG' }), remote, creds), 401, false);
    expectError(handleBindingRequest(request(), remote, { ...creds, remoteUfrag: 'XXXX' }), 401, false);
  });

  it('missing USERNAME or MESSAGE-INTEGRITY → 400', () => {
    const noMi = buildStun({ cls: 'request', transactionId: TXID, attributes: [{ type: ATTR.USERNAME, value: Buffer.from('LFRG:R') }], fingerprint: true });
    expectError(handleBindingRequest(noMi, remote, creds), 400, false);
    const noUser = buildStun({ cls: 'request', transactionId: TXID, integrityKey: creds.localPwd, fingerprint: true });
    expectError(handleBindingRequest(noUser, remote, creds), 400, false);
  });

  it('unknown comprehension-required attribute → 420 listing it', () => {
    const req = buildStun({
      cls: 'request',
      transactionId: TXID,
      attributes: [{ type: ATTR.USERNAME, value: Buffer.from('LFRG:R') }, { type: 0x7777, value: Buffer.alloc(4) }],
      integrityKey: creds.localPwd,
      fingerprint: true,
    });
    const m = expectError(handleBindingRequest(req, remote, creds), 420, true);
    expect(getAttribute(m, ATTR.UNKNOWN_ATTRIBUTES)?.value.toString('hex')).toBe('7777');
  });

  it('ignores a bad FINGERPRINT, but accepts a request without one', () => {
    const req = request();
    req[req.length - 1] ^= 0xff;
    expect(handleBindingRequest(req, remote, creds)).toBeUndefined();
    expect(handleBindingRequest(request({ noFingerprint: true }), remote, creds)?.valid).toBe(true);
  });

  it('returns undefined for non-STUN, non-requests and garbage, never throws', () => {
    expect(handleBindingRequest(Buffer.from('8000000100000000deadbeef' + '00'.repeat(20), 'hex'), remote, creds)).toBeUndefined();
    expect(handleBindingRequest(IPV4_RESPONSE, remote, creds)).toBeUndefined();
    expect(handleBindingRequest(REQUEST.subarray(0, 40), remote, creds)).toBeUndefined();
    for (let i = 0; i < 300; i++) {
      const junk = randomBytes(20 + (i % 80));
      junk[0] = i & 3;
      junk.writeUInt32BE(0x2112a442, 4);
      expect(() => handleBindingRequest(junk, remote, creds)).not.toThrow();
    }
    expect(handleBindingRequest(request(), { address: 'not-an-ip', port: 1 }, creds)).toBeUndefined();
  });
});
