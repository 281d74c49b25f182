// RFC 7983 demux and the allocation-free RTP/RTCP header accessors.
import { describe, expect, it } from 'vitest';
import {
  classify,
  rtcpSsrc,
  rtpHeaderLength,
  rtpMarker,
  rtpPayloadType,
  rtpSeq,
  rtpSsrc,
  rtpTimestamp,
  setRtpPayloadType,
  setRtpSsrc,
} from '../../../gateway/media/rtp/index.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
// V=2 M=1 PT=8 seq=0xBEEF ts=0x01020304 ssrc=0xCAFEBABE, 4 payload bytes
const PCMA = hex('80 88 beef 01020304 cafebabe 01020304');

describe('classify (RFC 7983 §7, RFC 5761 §4)', () => {
  const withFirst = (b0: number, b1 = 0, len = 40): Buffer => {
    const b = Buffer.alloc(len);
    b[0] = b0;
    b[1] = b1;
    return b;
  };

  it('splits on the first byte', () => {
    for (const b0 of [0, 1, 3]) expect(classify(withFirst(b0))).toBe('stun');
    for (const b0 of [20, 22, 63]) expect(classify(withFirst(b0))).toBe('dtls');
    for (const b0 of [128, 0x80, 191]) expect(classify(withFirst(b0, 0))).toBe('rtp');
    for (const b0 of [4, 16, 19, 64, 79, 100, 127, 192, 255]) expect(classify(withFirst(b0))).toBe('unknown');
  });

  it('treats second byte 192..223 as RTCP, everything else as RTP', () => {
    expect(classify(withFirst(0x80, 200))).toBe('rtcp'); // SR
    expect(classify(withFirst(0x81, 201))).toBe('rtcp'); // RR
    expect(classify(withFirst(0x80, 192))).toBe('rtcp');
    expect(classify(withFirst(0x80, 223))).toBe('rtcp');
    expect(classify(withFirst(0x80, 191))).toBe('rtp'); // M=1, PT=63
    expect(classify(withFirst(0x80, 224))).toBe('rtp'); // M=1, PT=96
    expect(classify(PCMA)).toBe('rtp');
  });

  it('calls packets shorter than their fixed header unknown', () => {
    expect(classify(Buffer.alloc(0))).toBe('unknown');
    expect(classify(withFirst(0, 0, 19))).toBe('unknown');
    expect(classify(withFirst(22, 0, 12))).toBe('unknown');
    expect(classify(withFirst(0x80, 200, 7))).toBe('unknown');
    expect(classify(withFirst(0x80, 200, 8))).toBe('rtcp');
    expect(classify(withFirst(0x80, 0, 11))).toBe('unknown');
  });
});

describe('RTP readers', () => {
  it('read the fixed header fields', () => {
    expect(rtpSsrc(PCMA)).toBe(0xcafebabe);
    expect(rtpSeq(PCMA)).toBe(0xbeef);
    expect(rtpPayloadType(PCMA)).toBe(8);
    expect(rtpMarker(PCMA)).toBe(true);
    expect(rtpTimestamp(PCMA)).toBe(0x01020304);
  });

  it('return -1 (never throw) on short buffers', () => {
    const short = Buffer.alloc(11, 0x80);
    expect(rtpSsrc(short)).toBe(-1);
    expect(rtpSeq(short)).toBe(-1);
    expect(rtpPayloadType(short)).toBe(-1);
    expect(rtpTimestamp(short)).toBe(-1);
    expect(rtpMarker(short)).toBe(false);
    expect(rtcpSsrc(Buffer.alloc(7))).toBe(-1);
  });

  it('reads the RTCP sender SSRC', () => {
    expect(rtcpSsrc(hex('81c90007 deadbeef 00000000'))).toBe(0xdeadbeef);
  });
});

describe('rtpHeaderLength', () => {
  it('is 12 for a plain header', () => expect(rtpHeaderLength(PCMA)).toBe(12));

  it('counts CSRCs and the header extension (RFC 3550 §5.3.1)', () => {
    const csrc2 = hex('82 00 0001 00000000 00000001 0000000a 0000000b ffff');
    expect(rtpHeaderLength(csrc2)).toBe(20);
    const ext = hex('90 00 0001 00000000 00000001 bede 0002 10ab0000 22ccdd00 ffff');
    expect(rtpHeaderLength(ext)).toBe(12 + 4 + 8);
    const both = hex('91 00 0001 00000000 00000001 0000000a bede 0001 10ab0000');
    expect(rtpHeaderLength(both)).toBe(24);
  });

  it('returns -1 for a wrong version or a header running past the end', () => {
    expect(rtpHeaderLength(hex('40 00 0001 00000000 00000001'))).toBe(-1);
    expect(rtpHeaderLength(hex('83 00 0001 00000000 00000001 0000000a'))).toBe(-1);
    expect(rtpHeaderLength(hex('90 00 0001 00000000 00000001 bede'))).toBe(-1);
    expect(rtpHeaderLength(hex('90 00 0001 00000000 00000001 bede 0002 10ab0000'))).toBe(-1);
    expect(rtpHeaderLength(Buffer.alloc(0))).toBe(-1);
  });

  it('honours an explicit length (e.g. excluding an SRTP tag)', () => {
    const ext = hex('90 00 0001 00000000 00000001 bede 0001 10ab0000');
    expect(rtpHeaderLength(ext)).toBe(20);
    expect(rtpHeaderLength(ext, 19)).toBe(-1);
    expect(rtpHeaderLength(ext, 99)).toBe(20);
  });
});

describe('RTP writers', () => {
  it('setRtpSsrc rewrites the SSRC in place and nothing else', () => {
    const b = Buffer.from(PCMA);
    setRtpSsrc(b, 0x01020304);
    expect(rtpSsrc(b)).toBe(0x01020304);
    expect(b.subarray(0, 8).equals(PCMA.subarray(0, 8))).toBe(true);
    expect(b.subarray(12).equals(PCMA.subarray(12))).toBe(true);
    setRtpSsrc(b, 0xffffffff);
    expect(rtpSsrc(b)).toBe(0xffffffff);
  });

  it('setRtpPayloadType keeps the marker bit', () => {
    const b = Buffer.from(PCMA);
    setRtpPayloadType(b, 101);
    expect(rtpPayloadType(b)).toBe(101);
    expect(rtpMarker(b)).toBe(true);
    b[1] = 8;
    setRtpPayloadType(b, 0);
    expect(b[1]).toBe(0);
  });

  it('reject bad arguments with a RangeError', () => {
    expect(() => setRtpSsrc(Buffer.alloc(8), 1)).toThrow(RangeError);
    expect(() => setRtpSsrc(Buffer.from(PCMA), -1)).toThrow(/invalid SSRC/);
    expect(() => setRtpSsrc(Buffer.from(PCMA), 2 ** 32)).toThrow(/invalid SSRC/);
    expect(() => setRtpPayloadType(Buffer.from(PCMA), 128)).toThrow(/invalid RTP payload type/);
    expect(() => setRtpPayloadType(Buffer.alloc(3), 0)).toThrow(/too short/);
  });
});
