// sip/ua/replaces.ts and refer.ts: the Replaces header (RFC 3891 §6.1) and its §3 rules, the REFER's
// request (RFC 3515 §2.4.1, RFC 4488, RFC 3892) and sipfrag status lines (RFC 3420), with seeded
// mutation: the parsers never throw anything but their own error, and what they accept re-serialises.
import { describe, expect, it } from 'vitest';
import { parseMessage } from '../../../gateway/sip/message/index.js';
import type { SipRequest } from '../../../gateway/sip/message/types.js';
import { parseRefer, parseSipfrag, ReferError, sipfrag } from '../../../gateway/sip/ua/refer.js';
import { formatReplaces, parseReplaces, replacedDialogId, replacesVerdict, ReplacesError } from '../../../gateway/sip/ua/replaces.js';
import { rng } from '../../support/rng.js';

function refer(extra: string[]): SipRequest {
  const text = [
    'REFER sip:gateway@127.0.0.1:5060 SIP/2.0',
    'Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1',
    'From: <sip:a@127.0.0.1>;tag=aa',
    'To: <sip:b@127.0.0.1>;tag=bb',
    'Call-ID: c1@127.0.0.1',
    'CSeq: 7 REFER',
    'Max-Forwards: 70',
    ...extra,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  return parseMessage(Buffer.from(text)) as SipRequest;
}

describe('Replaces (RFC 3891)', () => {
  it('parses call-id, to-tag, from-tag and early-only; names our dialog (to-tag = our local tag)', () => {
    const r = parseReplaces('98732@sip.example.com;from-tag=r33th4x0r;to-tag=ff87ff;early-only');
    expect(r).toEqual({ callId: '98732@sip.example.com', toTag: 'ff87ff', fromTag: 'r33th4x0r', earlyOnly: true });
    expect(replacedDialogId(r)).toEqual({ callId: '98732@sip.example.com', localTag: 'ff87ff', remoteTag: 'r33th4x0r' });
    expect(parseReplaces(formatReplaces(r))).toEqual(r);
  });

  it.each(['', 'abc', 'abc;to-tag=1', 'abc;from-tag=1', 'a b;to-tag=1;from-tag=2', ';to-tag=1;from-tag=2'])('rejects %j', (v) => {
    expect(() => parseReplaces(v)).toThrow(ReplacesError);
  });

  it('§3: no match 481, terminated 603, early 481, confirmed replaced unless early-only (486)', () => {
    expect(replacesVerdict({ earlyOnly: false }, { kind: 'none' })?.status).toBe(481);
    expect(replacesVerdict({ earlyOnly: false }, { kind: 'terminated' })?.status).toBe(603);
    expect(replacesVerdict({ earlyOnly: false }, { kind: 'early', ours: false })?.status).toBe(481);
    expect(replacesVerdict({ earlyOnly: false }, { kind: 'confirmed' })).toBeUndefined();
    expect(replacesVerdict({ earlyOnly: true }, { kind: 'confirmed' })?.status).toBe(486);
  });

  it('seeded mutation: only ReplacesError, and what is accepted re-serialises to the same meaning', () => {
    const random = rng(0x3891);
    const seed = 'a84b4c76e66710@pc33.atlanta.com;to-tag=314159;from-tag=1928301774;early-only';
    const alphabet = ';=@ -._~%"<>\\\r\n\u0000\u00e9abcXYZ019';
    for (let i = 0; i < 3000; i++) {
      const chars = [...seed];
      const edits = 1 + Math.floor(random() * 4);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(random() * (chars.length + 1));
        const op = random();
        const c = alphabet[Math.floor(random() * alphabet.length)]!;
        if (op < 0.4) chars.splice(at, 1);
        else if (op < 0.7) chars.splice(at, 0, c);
        else chars[at] = c;
      }
      const text = chars.join('');
      let r;
      try {
        r = parseReplaces(text);
      } catch (err) {
        expect(err).toBeInstanceOf(ReplacesError);
        continue;
      }
      expect(parseReplaces(formatReplaces(r))).toEqual(r);
    }
  });
});

describe('REFER (RFC 3515, RFC 4488, RFC 3892)', () => {
  it('Refer-To, Replaces in its URI (unescaped), Referred-By, the CSeq as the NOTIFY id', () => {
    const r = parseRefer(refer(['Refer-To: "Bob" <sip:bob@gw?Replaces=abc%40h%3Bto-tag%3D1%3Bfrom-tag%3D2>', 'Referred-By: <sip:a@127.0.0.1>']));
    expect(r.target.uri.user).toBe('bob');
    expect(r.replaces).toEqual({ callId: 'abc@h', toTag: '1', fromTag: '2', earlyOnly: false });
    expect(r.referredBy).toBe('<sip:a@127.0.0.1>');
    expect(r.subscribe).toBe(true);
    expect(r.id).toBe(7);
  });

  it('Refer-Sub: false → no implicit subscription (RFC 4488 §4)', () => {
    expect(parseRefer(refer(['Refer-To: <sip:7001@gw>', 'Refer-Sub: false'])).subscribe).toBe(false);
  });

  it.each([
    [[], 400],
    [['Refer-To: <sip:1@gw>', 'Refer-To: <sip:2@gw>'], 400],
    [['Refer-To: <http://example.com/>'], 403],
    [['Refer-To: <sip:1@gw?Replaces=nonsense>'], 400],
    [['Refer-To: <sip:1@gw>', 'Referred-By: <<bad'], 400],
  ])('rejects %j with %i', (extra, status) => {
    let caught: unknown;
    try {
      parseRefer(refer(extra));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ReferError);
    expect((caught as ReferError).status).toBe(status);
  });

  it('seeded mutation of Refer-To: only ReferError', () => {
    const random = rng(0x3515);
    const seed = '"Bob" <sip:bob@gw.example:5060;transport=tcp?Replaces=abc%40h%3Bto-tag%3D1%3Bfrom-tag%3D2>';
    const alphabet = '<>"?&=%;:@ abc123';
    for (let i = 0; i < 2000; i++) {
      const chars = [...seed];
      for (let e = 0; e < 1 + Math.floor(random() * 3); e++) {
        const at = Math.floor(random() * chars.length);
        if (random() < 0.5) chars.splice(at, 1);
        else chars.splice(at, 0, alphabet[Math.floor(random() * alphabet.length)]!);
      }
      let req: SipRequest;
      try {
        req = refer([`Refer-To: ${chars.join('')}`]);
      } catch {
        continue; // the message parser refused it first
      }
      try {
        parseRefer(req);
      } catch (err) {
        expect(err).toBeInstanceOf(ReferError);
      }
    }
  });

  it('sipfrag: a status line that parses back (RFC 3420)', () => {
    expect(sipfrag(486).toString()).toBe('SIP/2.0 486 Busy Here\r\n');
    expect(parseSipfrag(sipfrag(200, 'OK'))).toEqual({ status: 200, reason: 'OK' });
    expect(() => parseSipfrag('HTTP/1.1 200 OK')).toThrow(ReferError);
    expect(sipfrag(500, 'a\r\nInjected: x').toString()).toBe('SIP/2.0 500 a  Injected: x\r\n');
  });
});
