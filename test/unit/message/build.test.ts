// createResponse / createResponseFromPartial / identifiers.
import { describe, expect, it } from 'vitest';
import {
  type SipRequest,
  SipParseError,
  createResponse,
  createResponseFromPartial,
  getTo,
  newBranch,
  newCallId,
  newTag,
  parseMessage,
  serializeMessage,
} from '../../../gateway/sip/message/index.js';

const INVITE = [
  'INVITE sip:bob@example.com SIP/2.0',
  'Via: SIP/2.0/UDP p1.example.com;branch=z9hG4bKp1',
  'Via: SIP/2.0/UDP ua.example.com;branch=z9hG4bKua;received=192.0.2.1',
  'Max-Forwards: 69',
  'From: "Alice" <sip:alice@example.com>;tag=1928301774',
  'To: Bob <sip:bob@example.com>',
  'Call-ID: a84b4c76e66710',
  'CSeq: 314159 INVITE',
  'Timestamp: 54',
  'Contact: <sip:alice@pc33.example.com>',
  'Content-Length: 0',
].join('\r\n') + '\r\n\r\n';

const invite = () => parseMessage(Buffer.from(INVITE)) as SipRequest;

describe('createResponse (RFC 3261 §8.2.6.2)', () => {
  it('copies Via (in order), From, To, Call-ID, CSeq and nothing else', () => {
    const res = createResponse(invite(), 180, undefined, { toTag: 'xyz' });
    expect(res).toMatchObject({ kind: 'response', status: 180, reason: 'Ringing', version: 'SIP/2.0' });
    expect(res.headers).toEqual([
      { name: 'Via', value: 'SIP/2.0/UDP p1.example.com;branch=z9hG4bKp1' },
      { name: 'Via', value: 'SIP/2.0/UDP ua.example.com;branch=z9hG4bKua;received=192.0.2.1' },
      { name: 'From', value: '"Alice" <sip:alice@example.com>;tag=1928301774' },
      { name: 'To', value: 'Bob <sip:bob@example.com>;tag=xyz' },
      { name: 'Call-ID', value: 'a84b4c76e66710' },
      { name: 'CSeq', value: '314159 INVITE' },
    ]);
    expect(getTo(res).params.tag).toBe('xyz');
  });

  it('keeps an existing To tag', () => {
    const req = invite();
    req.headers = req.headers.map((h) => (h.name === 'To' ? { ...h, value: '<sip:bob@example.com>;tag=old' } : h));
    expect(getTo(createResponse(req, 200, 'OK', { toTag: 'new' })).params.tag).toBe('old');
  });

  it('copies Timestamp into 100 Trying (RFC 3261 §8.2.6.1)', () => {
    const trying = createResponse(invite(), 100);
    expect(trying.reason).toBe('Trying');
    expect(trying.headers.find((h) => h.name === 'Timestamp')?.value).toBe('54');
    expect(createResponse(invite(), 200).headers.some((h) => h.name === 'Timestamp')).toBe(false);
  });

  it('adds extra headers, body and Content-Type; the result serializes and parses', () => {
    const body = Buffer.from('v=0\r\n');
    const res = createResponse(invite(), 200, undefined, {
      toTag: 't',
      headers: [{ name: 'Contact', value: '<sip:bob@192.0.2.4>' }],
      body,
      contentType: 'application/sdp',
    });
    const parsed = parseMessage(serializeMessage(res));
    expect(parsed.kind === 'response' && parsed.status).toBe(200);
    expect(parsed.body.equals(body)).toBe(true);
    expect(parsed.headers.map((h) => h.name)).toEqual([
      'Via', 'Via', 'From', 'To', 'Call-ID', 'CSeq', 'Contact', 'Content-Type', 'Content-Length',
    ]);
  });

  it('has default reason phrases for the common codes', () => {
    const expected: Record<number, string> = {
      100: 'Trying', 180: 'Ringing', 183: 'Session Progress', 200: 'OK', 202: 'Accepted', 400: 'Bad Request',
      401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
      407: 'Proxy Authentication Required', 408: 'Request Timeout', 480: 'Temporarily Unavailable',
      481: 'Call/Transaction Does Not Exist', 482: 'Loop Detected', 483: 'Too Many Hops', 486: 'Busy Here',
      487: 'Request Terminated', 488: 'Not Acceptable Here', 489: 'Bad Event', 491: 'Request Pending',
      500: 'Server Internal Error', 501: 'Not Implemented', 503: 'Service Unavailable', 504: 'Server Time-out',
      505: 'Version Not Supported', 513: 'Message Too Large', 603: 'Decline',
    };
    for (const [code, reason] of Object.entries(expected)) expect(createResponse(invite(), Number(code)).reason).toBe(reason);
  });
});

describe('createResponseFromPartial', () => {
  function errorOf(text: string): SipParseError {
    try {
      parseMessage(Buffer.from(text));
    } catch (e) {
      if (e instanceof SipParseError) return e;
    }
    throw new Error('expected SipParseError');
  }

  it('builds a 400 with the fault as reason phrase', () => {
    const e = errorOf(INVITE.replace('CSeq: 314159 INVITE', 'CSeq: 314159 BYE'));
    const res = createResponseFromPartial(e.partial, 400, e.reason);
    expect(res?.status).toBe(400);
    expect(res?.reason).toBe('Bad CSeq: method mismatch');
    expect(res?.headers.filter((h) => h.name === 'Via')).toHaveLength(2);
  });

  it('gives undefined when a response cannot or must not be built', () => {
    expect(createResponseFromPartial(undefined, 400)).toBeUndefined();
    expect(createResponseFromPartial(errorOf(INVITE.replace('Call-ID: a84b4c76e66710\r\n', '')).partial, 400)).toBeUndefined();
    const ack = errorOf(INVITE.replace('INVITE sip', 'ACK sip'));
    expect(ack.reason).toBe('Bad CSeq: method mismatch');
    expect(createResponseFromPartial(ack.partial, 400)).toBeUndefined();
    const badVia = errorOf(INVITE.replace('Via: SIP/2.0/UDP p1.example.com;branch=z9hG4bKp1', 'Via: garbage'));
    expect(createResponseFromPartial(badVia.partial, 400)).toBeUndefined();
    expect(createResponseFromPartial({ headers: [], isRequest: false }, 400)).toBeUndefined();
  });

  it('strips CR/LF from the reason phrase', () => {
    const e = errorOf(INVITE.replace('CSeq: 314159 INVITE', 'CSeq: 314159 BYE'));
    expect(createResponseFromPartial(e.partial, 400, 'a\r\nb')?.reason).toBe('a b');
  });
});

describe('identifiers', () => {
  it('newBranch starts with the magic cookie and has 16+ random token chars', () => {
    const b = newBranch();
    expect(b).toMatch(/^z9hG4bK[A-Za-z0-9_-]{16,}$/);
    expect(new Set(Array.from({ length: 200 }, newBranch)).size).toBe(200);
  });

  it('newTag and newCallId are random tokens', () => {
    expect(newTag()).toMatch(/^[A-Za-z0-9_-]{8,}$/);
    expect(newTag()).not.toBe(newTag());
    expect(newCallId()).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    expect(newCallId('gw.example.com')).toMatch(/^[A-Za-z0-9_-]{16,}@gw\.example\.com$/);
  });
});
