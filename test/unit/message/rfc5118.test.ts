// RFC 5118 "SIP Torture Test Messages for IPv6": all 12 messages, each classified and asserted.
import { expect, it } from 'vitest';
import {
  type SipMessage,
  type SipRequest,
  SipParseError,
  getCSeq,
  getContacts,
  getTo,
  getVias,
  parseMessage,
  parseUri,
} from '../../../gateway/sip/message/index.js';
import { describeCorpus, readFixture } from './fixtures.js';

function ruri(m: SipMessage) {
  expect(m.kind).toBe('request');
  return parseUri((m as SipRequest).uri);
}

function contactHost(m: SipMessage): string | undefined {
  const c = getContacts(m);
  return c === '*' ? '*' : c[0]?.uri.host;
}

const VALID: Record<string, { section: string; check: (m: SipMessage) => void }> = {
  'ipv6-good.dat': {
    section: '4.1 valid SIP message with an IPv6 reference',
    check(m) {
      expect(ruri(m)).toMatchObject({ host: '[2001:db8::10]' });
      expect(ruri(m).port).toBeUndefined();
      expect(getVias(m)[0]?.host).toBe('[2001:db8::9:1]');
      expect(contactHost(m)).toBe('[2001:db8::1]');
    },
  },
  'port-ambiguous.dat': {
    section: '4.3 port ambiguous in a SIP URI (5070 is part of the address)',
    check(m) {
      expect(ruri(m).host).toBe('[2001:db8::10:5070]');
      expect(ruri(m).port).toBeUndefined();
    },
  },
  'port-unambiguous.dat': {
    section: '4.4 port unambiguous in a SIP URI',
    check(m) {
      expect(ruri(m)).toMatchObject({ host: '[2001:db8::10]', port: 5070 });
    },
  },
  'via-received-param-with-delim.dat': {
    section: '4.5 IPv6 reference delimiters in Via received (accepted)',
    check(m) {
      expect(getVias(m)[0]).toMatchObject({ host: '[2001:db8::9:1]', params: { received: '[2001:db8::9:255]', branch: 'z9hG4bKas3-111' } });
      expect(getCSeq(m)).toEqual({ seq: 321, method: 'BYE' });
    },
  },
  'via-received-param-no-delim.dat': {
    section: '4.5 IPv6 address without delimiters in Via received (the ABNF form)',
    check(m) {
      expect(getVias(m)[0]).toMatchObject({ host: '[2001:db8::9:1]', params: { received: '2001:db8::9:255', branch: 'z9hG4bKas3' } });
    },
  },
  'ipv6-in-sdp.dat': {
    section: '4.6 SIP request with IPv6 addresses in SDP body',
    check(m) {
      expect(getTo(m).uri.host).toBe('[2001:db8::10]');
      expect(m.body.length).toBe(241);
      expect(m.body.toString()).toContain('c=IN IP6 2001:db8::20\r\n');
    },
  },
  'mult-ip-in-sdp.dat': {
    section: '4.8 multiple IP addresses in SIP headers and SDP',
    check(m) {
      expect(contactHost(m)).toBe('[2001:db8::9:1]');
      expect(m.body.length).toBe(181);
      expect(m.body.toString()).toContain('c=IN IP4 192.0.2.1\r\n');
    },
  },
  'mult-ip-in-header.dat': {
    section: '4.7 multiple IP addresses in SIP headers',
    check(m) {
      expect(getVias(m).map((v) => [v.transport, v.host, v.port, v.params.received])).toEqual([
        ['UDP', '[2001:db8::9:1]', 6050, undefined],
        ['UDP', '192.0.2.1', undefined, undefined],
        ['TCP', '[2001:db8::9:255]', undefined, '192.0.2.200'],
      ]);
    },
  },
  'ipv6-correct-abnf-2-colons.dat': {
    section: '4.10 IPv4-embedded IPv6 reference with two colons (correct ABNF)',
    check(m) {
      expect(ruri(m)).toMatchObject({ user: 'user', host: '[2001:db8::192.0.2.1]' });
      expect(getTo(m).uri.host).toBe('[2001:db8::192.0.2.1]');
    },
  },
  'ipv4-mapped-ipv6.dat': {
    section: '4.9 IPv4-mapped IPv6 addresses',
    check(m) {
      expect(getVias(m).map((v) => [v.host, v.port])).toEqual([
        ['[::ffff:192.0.2.10]', 19823],
        ['[::ffff:192.0.2.2]', undefined],
      ]);
      expect(contactHost(m)).toBe('[::ffff:192.0.2.2]');
      expect(m.body.length).toBe(236);
    },
  },
};

const INVALID: Record<string, { section: string; reason: RegExp }> = {
  'ipv6-bad.dat': { section: '4.2 IPv6 reference without brackets in the Request-URI', reason: /^Bad Request-URI: .*port/ },
  'ipv6-bug-abnf-3-colons.dat': {
    section: '4.10 three colons before an embedded IPv4 address (RFC 3261 ABNF bug, corrected by RFC 5954)',
    reason: /^Bad Request-URI: invalid IPv6 reference/,
  },
};

describeCorpus('rfc5118', 'RFC 5118 IPv6 torture tests', { count: 12, classified: [...Object.keys(VALID), ...Object.keys(INVALID)] }, (dir) => {
  for (const [file, t] of Object.entries(VALID)) {
    it(`§${t.section}: ${file} parses`, () => t.check(parseMessage(readFixture(dir, file))));
  }

  for (const [file, t] of Object.entries(INVALID)) {
    it(`§${t.section}: ${file} is rejected`, () => {
      let err: unknown;
      try {
        parseMessage(readFixture(dir, file));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(SipParseError);
      expect((err as SipParseError).reason).toMatch(t.reason);
      expect((err as SipParseError).status).toBe(400);
    });
  }
});
