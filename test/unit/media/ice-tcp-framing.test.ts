// RFC 4571 framing for ICE-TCP (RFC 6544 §3): frames in, packets out, whatever the chunking; an
// oversize LENGTH is a FramingError; random bytes never raise anything else.
import { describe, expect, it } from 'vitest';
import { Deframer, FramingError, MAX_RFC4571_FRAME, frame } from '../../../gateway/media/tcp/framing.js';
import { buildBindingRequest } from '../../../gateway/media/stun/index.js';
import { rng } from '../../support/rng.js';

const stun = buildBindingRequest({ username: 'gwUf:brUf', password: 'gatewayPasswordOf24chars', controlling: 1n, useCandidate: true });
const rtp = Buffer.from([0x80, 0x00, 0x00, 0x01, ...Buffer.alloc(8, 7), ...Buffer.alloc(160, 0xff)]);
const empty = Buffer.alloc(0);

describe('RFC 4571 frame()', () => {
  it('prefixes the 16-bit big-endian length', () => {
    const f = frame(stun);
    expect(f.readUInt16BE(0)).toBe(stun.length);
    expect(f.subarray(2).equals(stun)).toBe(true);
    expect(frame(empty).equals(Buffer.from([0, 0]))).toBe(true);
  });

  it('refuses a packet the 16-bit LENGTH cannot describe', () => {
    expect(() => frame(Buffer.alloc(MAX_RFC4571_FRAME + 1))).toThrow(FramingError);
    expect(frame(Buffer.alloc(MAX_RFC4571_FRAME)).readUInt16BE(0)).toBe(MAX_RFC4571_FRAME);
  });
});

describe('RFC 4571 Deframer', () => {
  const stream = Buffer.concat([frame(stun), frame(rtp), frame(empty), frame(stun)]);

  it('returns several frames carried by one chunk, in order', () => {
    const out = new Deframer().push(stream);
    expect(out.map((p) => p.length)).toEqual([stun.length, rtp.length, 0, stun.length]);
    expect(out[1]!.equals(rtp)).toBe(true);
  });

  it('reassembles frames split at every possible byte, including inside the length field', () => {
    for (let cut = 1; cut < stream.length; cut++) {
      const d = new Deframer();
      const out = [...d.push(stream.subarray(0, cut)), ...d.push(stream.subarray(cut))];
      expect(out.map((p) => p.toString('hex'))).toEqual([stun, rtp, empty, stun].map((p) => p.toString('hex')));
      expect(d.buffered).toBe(0);
    }
  });

  it('byte by byte: nothing until a frame is complete, and holds only the partial frame', () => {
    const d = new Deframer();
    const got: Buffer[] = [];
    for (let i = 0; i < frame(stun).length; i++) {
      const out = d.push(frame(stun).subarray(i, i + 1));
      if (i < frame(stun).length - 1) expect(out).toEqual([]);
      got.push(...out);
    }
    expect(got).toHaveLength(1);
    expect(got[0]!.equals(stun)).toBe(true);
    expect(d.push(Buffer.from([0x00]))).toEqual([]);
    expect(d.buffered).toBe(1);
  });

  it('returns copies the caller may modify without touching later frames', () => {
    const d = new Deframer();
    const input = Buffer.concat([frame(rtp), frame(rtp)]);
    const [a, b] = d.push(input);
    a!.fill(0);
    expect(b!.equals(rtp)).toBe(true);
    expect(input.subarray(2, 2 + rtp.length).equals(rtp)).toBe(true);
  });

  it('an oversize LENGTH is a FramingError as soon as the length is read, and the stream stays failed', () => {
    const d = new Deframer(1500);
    expect(d.push(frame(rtp))).toHaveLength(1);
    expect(() => d.push(Buffer.from([0x05, 0xdd]))).toThrow(FramingError); // 1501
    expect(() => d.push(frame(rtp))).toThrow(FramingError);
    // "GET / HTTP/1.1" read as a length: 0x4745 = 18245 bytes
    expect(() => new Deframer(4096).push(Buffer.from('GET / HTTP/1.1\r\n'))).toThrow(/18245 bytes exceeds the limit of 4096/);
  });

  it('accepts exactly maxFrame', () => {
    expect(new Deframer(1500).push(frame(Buffer.alloc(1500, 1)))[0]!.length).toBe(1500);
    expect(() => new Deframer(0)).toThrow(RangeError);
  });
});

describe('Deframer mutation test (seeded)', () => {
  function mutate(src: Buffer, rand: () => number): Buffer {
    const out = Buffer.from(src);
    const edits = 1 + Math.floor(rand() * 6);
    for (let i = 0; i < edits; i++) out[Math.floor(rand() * out.length)] = Math.floor(rand() * 256);
    const r = rand();
    if (r < 0.2) return out.subarray(0, Math.floor(rand() * out.length)); // truncated
    if (r < 0.5) {
      // a byte range dropped: the following lengths are read out of step
      const from = Math.floor(rand() * out.length);
      return Buffer.concat([out.subarray(0, from), out.subarray(from + 1 + Math.floor(rand() * 40))]);
    }
    return out;
  }

  it('4000 mutated streams in random chunks never throw anything but FramingError', () => {
    const rand = rng(6544);
    const base = Buffer.concat([frame(stun), frame(rtp), frame(empty), frame(Buffer.alloc(1200, 0x17))]);
    const outcomes = { ok: 0, rejected: 0 };
    for (let i = 0; i < 4000; i++) {
      const input = mutate(base, rand);
      const d = new Deframer(1500);
      try {
        let at = 0;
        while (at < input.length) {
          const size = 1 + Math.floor(rand() * 300);
          for (const p of d.push(input.subarray(at, at + size))) expect(p.length).toBeLessThanOrEqual(1500);
          at += size;
        }
        expect(d.buffered).toBeLessThanOrEqual(1502);
        outcomes.ok++;
      } catch (err) {
        if (!(err instanceof FramingError)) throw err;
        outcomes.rejected++;
      }
    }
    // Both outcomes really happen, so the test exercises both paths.
    expect(outcomes.ok).toBeGreaterThan(100);
    expect(outcomes.rejected).toBeGreaterThan(100);
  });
});
