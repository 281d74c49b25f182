// serializeMessage({ compact: true }) (RFC 3261 §7.3.3): only the RFC 3261 compact forms, and a message
// parses back to the same thing as its long-form serialization.
import { describe, expect, it } from 'vitest';
import { compactName, parseMessage, serializeMessage } from '../../../gateway/sip/message/index.js';

const TEXT = [
  'SIP/2.0 407 Proxy Authentication Required',
  'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-1;received=192.0.2.1;rport=5060',
  'From: <sip:alice@example.com>;tag=a',
  'To: <sip:bob@example.com>;tag=b',
  'Call-ID: c1@example.com',
  'CSeq: 1 INVITE',
  'Contact: <sip:alice@192.0.2.1>',
  'Supported: timer',
  'Event: refer',
  'Proxy-Authenticate: Digest realm="gateway", nonce="abc", qop="auth"',
  'Content-Type: text/plain',
  'Content-Length: 2',
  '',
  'hi',
].join('\r\n');

describe('compact serialization', () => {
  it('names: RFC 3261 §7.3.3 letters only; others keep their canonical long name', () => {
    expect(['Via', 'from', 'TO', 'call-id', 'Content-Length', 'Contact', 'Content-Type', 'Supported', 'Subject', 'Content-Encoding'].map(compactName))
      .toEqual(['v', 'f', 't', 'i', 'l', 'm', 'c', 'k', 's', 'e']);
    expect(['Event', 'Refer-To', 'CSeq', 'Proxy-Authenticate', 'X-Foo'].map(compactName)).toEqual(['Event', 'Refer-To', 'CSeq', 'Proxy-Authenticate', 'X-Foo']);
  });

  it('is shorter and parses back to what the long form parses to', () => {
    const msg = parseMessage(Buffer.from(TEXT));
    const long = serializeMessage(msg);
    const short = serializeMessage(msg, { compact: true });
    expect(short.length).toBeLessThan(long.length);
    expect(short.toString()).toMatch(/^v: SIP\/2\.0\/UDP/m);
    expect(short.toString()).toMatch(/^l: 2\r\n\r\nhi$/m);
    expect(parseMessage(short)).toEqual(parseMessage(long));
  });
});
