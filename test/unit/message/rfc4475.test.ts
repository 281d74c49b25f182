// RFC 4475 "SIP Torture Test Messages": all 49 messages, each classified and asserted.
import { expect, it } from 'vitest';
import {
  type SipMessage,
  type SipRequest,
  SipParseError,
  checkUriScheme,
  createResponseFromPartial,
  getCSeq,
  getCallId,
  getContacts,
  getExpires,
  getFrom,
  getHeader,
  getHeaderValues,
  getMaxForwards,
  getTo,
  getVias,
  parseMessage,
  parseUri,
} from '../../../gateway/sip/message/index.js';
import { describeCorpus, rawBody, readFixture } from './fixtures.js';

function req(m: SipMessage): SipRequest {
  expect(m.kind).toBe('request');
  return m as SipRequest;
}

function contactsOf(m: SipMessage) {
  const c = getContacts(m);
  if (c === '*') throw new Error('unexpected *');
  return c;
}

const SDP150 = (m: SipMessage, raw: Buffer) => {
  expect(m.body.length).toBe(150);
  expect(m.body.toString('utf8').startsWith('v=0\r\n')).toBe(true);
  expect(m.body.equals(rawBody(raw).subarray(0, 150))).toBe(true);
};

/** Valid (§3.1.1, §3.2, §3.3, §3.4 "should be accepted") messages: parse and check the fields. */
const VALID: Record<string, { section: string; check: (m: SipMessage, raw: Buffer) => void }> = {
  'wsinv.dat': {
    section: '3.1.1.1 short tortuous INVITE',
    check(m, raw) {
      const r = req(m);
      expect(r.method).toBe('INVITE');
      expect(parseUri(r.uri)).toMatchObject({ scheme: 'sip', user: 'vivekg', host: 'chair-dnrc.example.com', params: { unknownparam: null } });
      expect(getTo(m)).toMatchObject({ uri: { user: 'vivekg' }, params: { tag: '1918181833n' } });
      expect(getFrom(m).displayName).toBe('J Rosenberg \\"');
      expect(getFrom(m).params).toEqual({ tag: '98asjd8' });
      expect(getMaxForwards(m)).toBe(68);
      expect(getCallId(m)).toBe('wsinv.ndaksdj@192.0.2.1');
      expect(getCSeq(m)).toEqual({ seq: 9, method: 'INVITE' });
      expect(getVias(m).map((v) => [v.transport, v.host, v.params.branch])).toEqual([
        ['UDP', '192.0.2.2', '390skdjuw'],
        ['TCP', 'spindle.example.com', 'z9hG4bK9ikj8'],
        ['UDP', '192.168.255.111', 'z9hG4bK30239'],
      ]);
      expect(getHeader(m, 'Subject')).toBe('');
      expect(getHeader(m, 'NewFangledHeader')).toBe('newfangled value continued newfangled value');
      expect(getHeader(m, 'UnknownHeaderWithUnusualValue')).toBe(';;,,;;,;');
      expect(getHeader(m, 'Route')).toBe('<sip:services.example.com;lr;unknownwith=value;unknown-no-value>');
      const [c] = contactsOf(m);
      expect(c?.displayName).toBe('Quoted string ""');
      expect(c?.params).toEqual({ newparam: 'newvalue', secondparam: null, q: '0.33' });
      SDP150(m, raw);
    },
  },
  'intmeth.dat': {
    section: '3.1.1.2 wide range of valid characters',
    check(m) {
      const r = req(m);
      const method = "!interesting-Method0123456789_*+`.%indeed'~";
      expect(r.method).toBe(method);
      expect(parseUri(r.uri)).toMatchObject({
        user: "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*",
        password: "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)",
        host: 'example.com',
      });
      expect(getTo(m).displayName).toBe('BEL:\x07 NUL:\x00 DEL:\x7f');
      expect(getFrom(m).displayName).toBe("token1~` token2'+_ token3*%!.-");
      expect(getFrom(m).params).toEqual({ "fromparam''~+*_!.-%": '"работающий"', tag: "_token~1'+`*%!-." });
      expect(getCallId(m)).toBe("intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{");
      expect(getCSeq(m)).toEqual({ seq: 139122385, method });
      expect(getVias(m)[0]?.params.branch).toBe("z9hG4bK-.!%66*_+`'~");
      expect(getMaxForwards(m)).toBe(255);
      expect(getHeader(m, "extensionHeader-!.%*+_`'~")).toBe('\uFEFF大停電');
      expect(m.body.length).toBe(0);
    },
  },
  'esc01.dat': {
    section: '3.1.1.3 valid use of the % escaping mechanism',
    check(m, raw) {
      expect(parseUri(req(m).uri)).toMatchObject({ user: 'sips:user@example.com', host: 'example.net' });
      expect(getTo(m).uri.user).toBe('user');
      expect(getFrom(m).uri.user).toBe('I have spaces');
      expect(getFrom(m).params.tag).toBe('938');
      expect(getCallId(m)).toBe('esc01.239409asdfakjkn23onasd0-3234');
      expect(getHeader(m, 'Content-Type')).toBe('application/sdp');
      const [c] = contactsOf(m);
      expect(c?.uri).toMatchObject({ user: 'caller', host: 'host5.example.net', params: { lr: null, name: 'value%41' } });
      SDP150(m, raw);
    },
  },
  'escnull.dat': {
    section: '3.1.1.4 escaped nulls in URIs',
    check(m) {
      expect(getTo(m).uri.user).toBe('null-\u0000-null');
      expect(getFrom(m).uri.user).toBe('null-\u0000-null');
      expect(contactsOf(m).map((c) => c.uri.user)).toEqual(['\u0000', '\u0000\u0000']);
      expect(getCSeq(m)).toEqual({ seq: 14398234, method: 'REGISTER' });
      expect(m.body.length).toBe(0);
    },
  },
  'esc02.dat': {
    section: '3.1.1.5 use of % when it is not an escape',
    check(m) {
      expect(req(m).method).toBe('RE%47IST%45R');
      expect(getCSeq(m)).toEqual({ seq: 29344, method: 'RE%47IST%45R' });
      expect(getTo(m).displayName).toBe('%Z%45');
      expect(getVias(m)[0]).toMatchObject({ transport: 'TCP', params: { branch: 'z9hG4bK209%fzsnel234' } });
      // "C%6Fntact" is an extension header, not Contact.
      expect(contactsOf(m).map((c) => c.uri.host)).toEqual(['host1.example.com', 'host3.example.com']);
      expect(getHeader(m, 'C%6Fntact')).toBe('<sip:alias2@host2.example.com>');
    },
  },
  'lwsdisp.dat': {
    section: '3.1.1.6 message with no LWS between display name and <',
    check(m) {
      expect(getFrom(m)).toMatchObject({ displayName: 'caller', uri: { user: 'caller', host: 'example.com' }, params: { tag: '323' } });
      expect(getCSeq(m)).toEqual({ seq: 60, method: 'OPTIONS' });
    },
  },
  'longreq.dat': {
    section: '3.1.1.7 long values in header fields',
    check(m, raw) {
      const to = getTo(m);
      expect(to.displayName).toMatch(/^I have a user name of (extreme){10} proportion$/);
      expect(to.uri.port).toBe(6000);
      expect(Object.keys(to.uri.params)).toHaveLength(3);
      expect(getFrom(m).params.tag).toMatch(/^(1298){1}(298)+2424$/);
      expect(getCallId(m)).toMatch(/^longreq\.one(really){20}longcallid$/);
      const vias = getVias(m);
      expect(vias).toHaveLength(34);
      expect(vias[0]?.host).toBe('sip33.example.com');
      expect(vias[33]).toMatchObject({ host: 'host.example.com', params: { received: '192.0.2.5' } });
      expect(getHeader(m, 'Content-Length')).toBe('150');
      SDP150(m, raw);
    },
  },
  'dblreq.dat': {
    section: '3.1.1.8 extra trailing octets in a UDP datagram',
    check(m) {
      expect(req(m).method).toBe('REGISTER');
      expect(getCallId(m)).toBe('dblreq.0ha0isndaksdj99sdfafnl3lk233412');
      expect(m.body.length).toBe(0); // the INVITE that follows is discarded (RFC 3261 §18.3)
    },
  },
  'semiuri.dat': {
    section: '3.1.1.9 semicolon-separated parameters in URI user part',
    check(m) {
      const uri = parseUri(req(m).uri);
      expect(uri).toMatchObject({ user: 'user;par=u@example.net', host: 'example.com' });
      expect(uri.params).toEqual({});
      expect(getHeaderValues(m, 'Accept')).toEqual([
        'application/sdp', 'application/pkcs7-mime', 'multipart/mixed', 'multipart/signed', 'message/sip', 'message/sipfrag',
      ]);
    },
  },
  'transports.dat': {
    section: '3.1.1.10 varied and unknown transport types',
    check(m) {
      expect(getVias(m).map((v) => v.transport)).toEqual(['UDP', 'SCTP', 'TLS', 'UNKNOWN', 'TCP']);
      expect(getCallId(m)).toBe('transports.kijh4akdnaqjkwendsasfdj');
    },
  },
  'mpart01.dat': {
    section: '3.1.1.11 multipart MIME message (binary body)',
    check(m, raw) {
      expect(req(m).method).toBe('MESSAGE');
      expect(m.body.length).toBe(553);
      expect(m.body.equals(rawBody(raw))).toBe(true);
      expect(getHeader(m, 'Content-Type')).toBe('multipart/mixed;boundary=7a9cbec02ceef655');
      expect(getVias(m)[0]).toMatchObject({ host: '127.0.0.1', port: 5070, params: { rport: null } });
    },
  },
  'unreason.dat': {
    section: '3.1.1.12 unusual reason phrase',
    check(m) {
      expect(m.kind === 'response' && m.status).toBe(200);
      expect(m.kind === 'response' && m.reason).toMatch(/^= 2\*\*3 \* 5\*\*2 но сто девяносто девять - простое$/);
      expect(m.body.length).toBe(154);
    },
  },
  'noreason.dat': {
    section: '3.1.1.13 empty reason phrase',
    check(m) {
      expect(m.kind === 'response' && [m.status, m.reason]).toEqual([100, '']);
      expect(getTo(m).params.tag).toBe('902jndnke3');
    },
  },
  'badbranch.dat': {
    section: '3.2.1 missing transaction identifier (branch is only the magic cookie)',
    check(m) {
      expect(getVias(m)[0]?.params.branch).toBe('z9hG4bK');
    },
  },
  'unkscm.dat': {
    section: '3.3.2 Request-URI with unknown scheme (parses; a UAS answers 416)',
    check(m) {
      expect(parseUri(req(m).uri)).toMatchObject({ scheme: 'nobodyknowsthisscheme', host: 'totallyopaquecontent' });
      const err = checkUriScheme(req(m));
      expect(err?.status).toBe(416);
      expect(err?.reason).toMatch(/Unsupported URI Scheme/);
    },
  },
  'novelsc.dat': {
    section: '3.3.3 Request-URI with known but atypical scheme',
    check(m) {
      expect(parseUri(req(m).uri)).toMatchObject({ scheme: 'soap.beep', host: '//192.0.2.103:3002' });
      expect(checkUriScheme(req(m))?.status).toBe(416);
      expect(checkUriScheme(req(m), ['soap.beep'])).toBeUndefined();
    },
  },
  'unksm2.dat': {
    section: '3.3.4 unknown URI schemes in header fields',
    check(m) {
      expect(getTo(m).uri).toMatchObject({ scheme: 'isbn', host: '2983792873' });
      expect(getFrom(m).uri).toMatchObject({ scheme: 'http', host: '//www.example.com' });
      expect(getFrom(m).params.tag).toBe('3234233');
      expect(contactsOf(m)[0]?.uri).toMatchObject({ scheme: 'name', host: 'John_Smith' });
    },
  },
  'bext01.dat': {
    section: '3.3.5 Proxy-Require and Require',
    check(m) {
      expect(getHeaderValues(m, 'Require')).toEqual(['nothingSupportsThis', 'nothingSupportsThisEither']);
      expect(getHeaderValues(m, 'Proxy-Require')).toEqual(['noProxiesSupportThis', 'norDoAnyProxiesSupportThis']);
      expect(getVias(m)[0]?.transport).toBe('TLS');
    },
  },
  'invut.dat': {
    section: '3.3.6 unknown Content-Type',
    check(m, raw) {
      expect(getHeader(m, 'Content-Type')).toBe('application/unknownformat');
      expect(m.body.equals(rawBody(raw))).toBe(true);
      expect(m.body.toString()).toBe('<audio>\r\n <pcmu port="443"/>\r\n</audio>\r\n');
    },
  },
  'regaut01.dat': {
    section: '3.3.7 unknown authorization scheme',
    check(m) {
      expect(getHeaderValues(m, 'Authorization')).toEqual(['NoOneKnowsThisScheme opaque-data=here']);
      expect(getHeader(m, 'Content-Length')).toBe('0');
    },
  },
  'bcast.dat': {
    section: '3.3.10 200 OK with broadcast Via',
    check(m) {
      expect(m.kind === 'response' && m.status).toBe(200);
      expect(getVias(m).map((v) => v.host)).toEqual(['192.0.2.198', '255.255.255.255']);
      expect(getCSeq(m)).toEqual({ seq: 35, method: 'INVITE' });
    },
  },
  'zeromf.dat': {
    section: '3.3.11 Max-Forwards of zero',
    check(m) {
      expect(getMaxForwards(m)).toBe(0);
    },
  },
  'cparam01.dat': {
    section: '3.3.12 REGISTER with a contact header parameter',
    check(m) {
      const [c] = contactsOf(m);
      expect(c?.uri).toMatchObject({ user: '+19725552222', host: 'gw1.example.net' });
      expect(c?.uri.params).toEqual({});
      expect(c?.params).toEqual({ unknownparam: null });
    },
  },
  'cparam02.dat': {
    section: '3.3.13 REGISTER with a URL parameter',
    check(m) {
      const [c] = contactsOf(m);
      expect(c?.uri.params).toEqual({ unknownparam: null });
      expect(c?.params).toEqual({});
    },
  },
  'regescrt.dat': {
    section: '3.3.14 REGISTER with a URL escaped header',
    check(m) {
      const [c] = contactsOf(m);
      expect(c?.uri.headers).toEqual({ Route: '<sip:sip.example.com>' });
      expect(getCSeq(m).method).toBe('REGISTER');
    },
  },
  'sdp01.dat': {
    section: '3.3.15 unacceptable Accept offering',
    check(m, raw) {
      expect(getHeader(m, 'Accept')).toBe('text/nobodyKnowsThis');
      SDP150(m, raw);
    },
  },
  'inv2543.dat': {
    section: '3.4.1 INVITE with RFC 2543 syntax (accepted for backward compatibility)',
    check(m, raw) {
      expect(getVias(m)[0]).toMatchObject({ host: 'iftgw.example.com', params: {} });
      expect(getMaxForwards(m)).toBeUndefined();
      expect(getFrom(m).params).toEqual({});
      expect(getTo(m).uri.params).toEqual({});
      expect(getTo(m).params).toEqual({ user: 'phone' }); // bare URI: ;user=phone is a header param
      expect(m.body.equals(rawBody(raw))).toBe(true); // no Content-Length over UDP: the rest
    },
  },
};

/** Invalid messages (§3.1.2 and the §3.3 ones an element answers 400): SipParseError naming the fault. */
const INVALID: Record<string, { section: string; reason: RegExp; status?: number; canAnswer: boolean }> = {
  'badinv01.dat': { section: '3.1.2.1 extraneous header field separators', reason: /^Bad Via: .*parameter name/, canAnswer: false },
  'clerr.dat': { section: '3.1.2.2 Content-Length larger than message', reason: /^Content-Length larger than body/, canAnswer: true },
  'ncl.dat': { section: '3.1.2.3 negative Content-Length', reason: /^Bad Content-Length.*-999/, canAnswer: true },
  'scalar02.dat': { section: '3.1.2.4 request scalar fields with overlarge values', reason: /^Bad CSeq: sequence number out of range/, canAnswer: true },
  'scalarlg.dat': { section: '3.1.2.5 response scalar fields with overlarge values', reason: /^Bad CSeq: sequence number out of range/, canAnswer: false },
  'quotbal.dat': { section: '3.1.2.6 unterminated quoted string in display name', reason: /^Bad To: unterminated quoted string/, canAnswer: true },
  'ltgtruri.dat': { section: '3.1.2.7 <> enclosing Request-URI', reason: /^Bad Request-URI/, canAnswer: true },
  'lwsruri.dat': { section: '3.1.2.8 malformed SIP Request-URI (embedded LWS)', reason: /^Bad Request-Line/, canAnswer: true },
  'lwsstart.dat': { section: '3.1.2.9 multiple SP separating Request-Line elements', reason: /^Bad Request-Line/, canAnswer: true },
  'trws.dat': { section: '3.1.2.10 SP characters at end of Request-Line', reason: /^Bad Request-Line/, canAnswer: true },
  'escruri.dat': { section: '3.1.2.11 escaped headers in SIP Request-URI', reason: /^Bad Request-URI: headers are not allowed/, canAnswer: true },
  'baddate.dat': { section: '3.1.2.12 invalid time zone in Date header field', reason: /^Bad Date/, canAnswer: true },
  'regbadct.dat': { section: '3.1.2.13 failure to enclose name-addr URI in <>', reason: /^Bad Contact: .*enclosed in <>/, canAnswer: true },
  'badaspec.dat': { section: '3.1.2.14 spaces within addr-spec', reason: /^Bad To: whitespace inside <>/, canAnswer: true },
  'baddn.dat': { section: '3.1.2.15 non-token characters in display name', reason: /^Bad From: .*display name/, canAnswer: true },
  'badvers.dat': { section: '3.1.2.16 unknown protocol version', reason: /SIP Version Not Supported: SIP\/7\.0/, status: 505, canAnswer: true },
  'mismatch01.dat': { section: '3.1.2.17 start line and CSeq method mismatch', reason: /^Bad CSeq: method mismatch$/, canAnswer: true },
  'mismatch02.dat': { section: '3.1.2.18 unknown method with CSeq method mismatch', reason: /^Bad CSeq: method mismatch$/, canAnswer: true },
  'bigcode.dat': { section: '3.1.2.19 overlarge response code', reason: /^Bad Status-Line: Status-Code/, canAnswer: false },
  'insuf.dat': { section: '3.3.1 missing required header fields', reason: /^Missing To header$/, canAnswer: false },
  'multi01.dat': { section: '3.3.8 multiple values in single-value required fields', reason: /^Duplicate (CSeq|Call-ID|To|From|Max-Forwards) header$/, canAnswer: true },
  'mcl01.dat': { section: '3.3.9 multiple Content-Length values', reason: /^Duplicate Content-Length header$/, canAnswer: true },
};

describeCorpus('rfc4475', 'RFC 4475 torture tests', { count: 49, classified: [...Object.keys(VALID), ...Object.keys(INVALID)] }, (dir) => {
  for (const [file, t] of Object.entries(VALID)) {
    it(`§${t.section}: ${file} parses`, () => {
      const raw = readFixture(dir, file);
      t.check(parseMessage(raw), raw);
    });
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
      const e = err as SipParseError;
      expect(e.reason).toMatch(t.reason);
      expect(e.status).toBe(t.status ?? 400);
      expect(e.partial?.headers?.length).toBeGreaterThan(0);
      // A 400 can be built whenever Via/From/To/Call-ID/CSeq survived (not for responses).
      const answer = createResponseFromPartial(e.partial, e.status, e.reason);
      expect(answer !== undefined).toBe(t.canAnswer);
      if (answer) expect(answer.reason).toBe(e.reason);
    });
  }

  it('§3.1.2.4 scalar02 also carries overlarge Max-Forwards and Expires', () => {
    const raw = readFixture(dir, 'scalar02.dat');
    const e = (() => {
      try {
        parseMessage(raw);
      } catch (err) {
        return err as SipParseError;
      }
      throw new Error('expected a parse error');
    })();
    const probe = { headers: e.partial?.headers ?? [] };
    expect(() => getMaxForwards(probe)).toThrow(/Bad Max-Forwards: out of range/);
    expect(getExpires(probe)).toBe(2 ** 32 - 1);
  });
});
