// StreamFramer: TCP byte stream → whole SIP messages (RFC 3261 §18.3, RFC 5626 §3.5.1).
import { describe, expect, it } from 'vitest';
import {
  FramingError,
  StreamFramer,
  getCallId,
  parseMessage,
} from '../../../gateway/sip/message/index.js';
import { requireFixtureDir, readFixture } from './fixtures.js';

function request(callId: string, body = ''): Buffer {
  const b = Buffer.from(body, 'utf8');
  return Buffer.concat([
    Buffer.from(
      [
        'OPTIONS sip:a@example.com SIP/2.0',
        'Via: SIP/2.0/TCP h;branch=z9hG4bK' + callId,
        'From: <sip:b@example.com>;tag=1',
        'To: <sip:a@example.com>',
        `Call-ID: ${callId}`,
        'CSeq: 1 OPTIONS',
        'Max-Forwards: 70',
        `Content-Length: ${b.length}`,
      ].join('\r\n') + '\r\n\r\n',
    ),
    b,
  ]);
}

const ids = (frames: Buffer[]) => frames.map((f) => getCallId(parseMessage(f, { stream: true })));

describe('StreamFramer', () => {
  it('returns two messages delivered in one chunk', () => {
    const f = new StreamFramer();
    const frames = f.push(Buffer.concat([request('one', 'body-1'), request('two', 'ü')]));
    expect(ids(frames)).toEqual(['one', 'two']);
    expect(parseMessage(frames[1] ?? Buffer.alloc(0)).body.toString()).toBe('ü');
    expect(f.buffered).toBe(0);
    expect(f.state).toBe('awaiting-headers');
  });

  it('reassembles a message split across chunks, byte by byte', () => {
    const f = new StreamFramer();
    const whole = request('split', 'hello world');
    const out: Buffer[] = [];
    for (let i = 0; i < whole.length; i++) {
      out.push(...f.push(whole.subarray(i, i + 1)));
      if (i < whole.length - 1) expect(out).toHaveLength(0);
    }
    expect(out).toHaveLength(1);
    expect(out[0]?.equals(whole)).toBe(true);
  });

  it('waits for the body after the headers are complete', () => {
    const f = new StreamFramer();
    const whole = request('body', '0123456789');
    expect(f.push(whole.subarray(0, whole.length - 3))).toEqual([]);
    expect(f.state).toBe('awaiting-body');
    expect(ids(f.push(whole.subarray(whole.length - 3)))).toEqual(['body']);
  });

  it('ignores CRLF keep-alives (double-CRLF ping, CRLF pong) between messages', () => {
    const f = new StreamFramer();
    expect(f.push(Buffer.from('\r\n\r\n'))).toEqual([]);
    expect(f.buffered).toBe(0);
    const frames = f.push(Buffer.concat([Buffer.from('\r\n'), request('a'), Buffer.from('\r\n\r\n'), request('b')]));
    expect(ids(frames)).toEqual(['a', 'b']);
    expect(frames[0]?.equals(request('a'))).toBe(true);
  });

  it('frames the two requests of RFC 4475 §3.1.1.8 (dblreq) separately on a stream', () => {
    const dir = requireFixtureDir('rfc4475');
    // The INVITE's SDP is longer than its Content-Length (150): the leftover octets are not a message,
    // so the framer fails after handing over the two complete requests.
    let err: unknown;
    try {
      new StreamFramer().push(readFixture(dir, 'dblreq.dat'));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FramingError);
    const msgs = (err as FramingError).frames.map((b) => parseMessage(b, { stream: true }));
    expect(msgs.map((m) => m.kind === 'request' && m.method)).toEqual(['REGISTER', 'INVITE']);
    expect(msgs[1]?.body.length).toBe(150);
  });

  it('throws when Content-Length is missing, and stays failed', () => {
    const f = new StreamFramer();
    const noLength = Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nCall-ID: x\r\n\r\n');
    let err: unknown;
    try {
      f.push(Buffer.concat([request('ok'), noLength]));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FramingError);
    expect((err as FramingError).reason).toBe('Missing Content-Length on a stream transport');
    expect(ids((err as FramingError).frames)).toEqual(['ok']);
    expect((err as FramingError).partial?.headers).toEqual([{ name: 'Call-ID', value: 'x' }]);
    expect(f.state).toBe('failed');
    expect(() => f.push(request('later'))).toThrow(FramingError);
  });

  it('rejects a header section over 64 KiB even before it is complete', () => {
    const f = new StreamFramer();
    const big = Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nX-Pad: ' + 'a'.repeat(64 * 1024) + '\r\n');
    expect(() => f.push(big)).toThrow(/Header section larger than 64 KiB/);
  });

  it('rejects a body over 1 MiB and a malformed Content-Length', () => {
    const huge = Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 1048577\r\n\r\n');
    expect(() => new StreamFramer().push(huge)).toThrow(/Body larger than 1 MiB/);
    const bad = Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nl: 12abc\r\n\r\n');
    expect(() => new StreamFramer().push(bad)).toThrow(/Bad Content-Length/);
    const dup = Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nl: 1\r\nContent-Length: 1\r\n\r\nx');
    expect(() => new StreamFramer().push(dup)).toThrow(/Duplicate Content-Length/);
  });

  it('accepts a body of exactly 1 MiB', () => {
    const body = 'x'.repeat(1024 * 1024);
    const frames = new StreamFramer().push(request('big', body));
    expect(frames).toHaveLength(1);
    expect(parseMessage(frames[0] ?? Buffer.alloc(0), { stream: true }).body.length).toBe(1024 * 1024);
  });
});
