// RTCP compound packets (gateway/media/rtcp/packet.ts): known bytes, and a seeded mutation test — the
// parser never throws anything but RtcpParseError, and what it accepts serialises to the same bytes.
import { describe, expect, it } from 'vitest';
import { parseRtcp, RtcpParseError, sdesCname, serialiseRtcp, type RtcpPacket } from '../../../gateway/media/rtcp/packet.js';
import { rng } from '../../support/rng.js';

const block = { ssrc: 0x11223344, fractionLost: 12, cumulativeLost: -3, highestSeq: 0x1ffff, jitter: 77, lsr: 0xabcd1234, dlsr: 65536 };
const sr: RtcpPacket = {
  type: 'sr',
  ssrc: 0xdeadbeef,
  sender: { ntpSec: 0xe8000000, ntpFrac: 0x80000000, rtpTimestamp: 160000, packetCount: 250, octetCount: 40000 },
  reports: [block],
};
const rr: RtcpPacket = { type: 'rr', ssrc: 7, reports: [block, { ...block, ssrc: 8, cumulativeLost: 0x7fffff }] };

describe('RTCP packets (RFC 3550 §6.4)', () => {
  it('an SR with one report block: header, sender info and block at their offsets', () => {
    const bytes = serialiseRtcp([sr]);
    expect(bytes.length).toBe(52);
    expect([...bytes.subarray(0, 4)]).toEqual([0x81, 200, 0, 12]);
    expect(bytes.readUInt32BE(4)).toBe(0xdeadbeef);
    expect(bytes.readUInt32BE(28)).toBe(0x11223344);
    expect([...bytes.subarray(32, 36)]).toEqual([12, 0xff, 0xff, 0xfd]); // fraction, −3 as 24-bit two's complement
    expect(parseRtcp(bytes)).toEqual([sr]);
  });

  it('a compound RR + SDES CNAME round-trips; CNAME chunk padded to 32 bits', () => {
    const sdes = sdesCname(7, 'gw-abc');
    expect(sdes.body.length % 4).toBe(0);
    const bytes = serialiseRtcp([rr, sdes]);
    expect(parseRtcp(bytes)).toEqual([rr, sdes]);
    expect(bytes.subarray(bytes.length - sdes.body.length + 6, bytes.length - sdes.body.length + 12).toString()).toBe('gw-abc');
  });

  it('rejects what is not RTCP with its own error', () => {
    const good = serialiseRtcp([rr]);
    const cases: Buffer[] = [Buffer.alloc(0), good.subarray(0, 3), Buffer.from([0x40, 201, 0, 1, 0, 0, 0, 1]), Buffer.concat([good, Buffer.from([0x80])])];
    const lying = Buffer.from(good);
    lying[0] = 0x83; // three blocks claimed, two present
    cases.push(lying);
    for (const c of cases) expect(() => parseRtcp(c)).toThrow(RtcpParseError);
  });

  it('seeded mutation: only RtcpParseError is thrown, and what parses re-serialises to the same bytes', () => {
    const random = rng(20261207);
    const seeds = [serialiseRtcp([sr, sdesCname(0xdeadbeef, 'x')]), serialiseRtcp([rr]), serialiseRtcp([{ type: 'other', packetType: 205, count: 15, body: Buffer.alloc(12, 3) }, rr])];
    let accepted = 0;
    for (let i = 0; i < 20000; i++) {
      const input = Buffer.from(seeds[i % seeds.length]!);
      let mutated: Buffer = input;
      const edits = 1 + Math.floor(random() * 4);
      for (let e = 0; e < edits; e++) {
        const op = random();
        if (op < 0.6) mutated[Math.floor(random() * mutated.length)] = Math.floor(random() * 256);
        else if (op < 0.8) mutated = mutated.subarray(0, Math.floor(random() * mutated.length));
        else mutated = Buffer.concat([mutated, Buffer.from(Array.from({ length: 1 + Math.floor(random() * 8) }, () => Math.floor(random() * 256)))]);
        if (mutated.length === 0) break;
      }
      let parsed: RtcpPacket[];
      try {
        parsed = parseRtcp(mutated);
      } catch (err) {
        expect(err).toBeInstanceOf(RtcpParseError);
        continue;
      }
      accepted++;
      expect(serialiseRtcp(parsed).equals(mutated)).toBe(true);
    }
    expect(accepted).toBeGreaterThan(1000);
  });
});
