import { describe, expect, it } from 'vitest';
import { SourceRebaser } from '../../../gateway/media/legs/rebase.js';
import { SrtpContext } from '../../../gateway/media/srtp/index.js';

const OURS = 0x0a0b0c0d;

function rtp(ssrc: number, seq: number, ts: number, pt = 0, payload = Buffer.from([9, 8, 7, 6])): Buffer {
  const p = Buffer.alloc(12 + payload.length);
  p[0] = 0x80;
  p[1] = pt;
  p.writeUInt16BE(seq & 0xffff, 2);
  p.writeUInt32BE(ts >>> 0, 4);
  p.writeUInt32BE(ssrc >>> 0, 8);
  payload.copy(p, 12);
  return p;
}

const seqOf = (p: Buffer) => p.readUInt16BE(2);
const tsOf = (p: Buffer) => p.readUInt32BE(4);
const marker = (p: Buffer) => (p[1]! & 0x80) !== 0;

describe('SourceRebaser', () => {
  it('passes the first source through unchanged except for our SSRC', () => {
    const r = new SourceRebaser(OURS);
    const p = rtp(0x1111, 4000, 123456);
    r.rtp(p);
    expect(p.readUInt32BE(8)).toBe(OURS);
    expect(seqOf(p)).toBe(4000);
    expect(tsOf(p)).toBe(123456);
    expect(marker(p)).toBe(false);
    expect(r.switches).toBe(0);
  });

  it('continues SEQ and timestamp across a source change and marks the first packet of the new source', () => {
    const r = new SourceRebaser(OURS);
    for (let i = 0; i < 5; i++) r.rtp(rtp(0x1111, 100 + i, 8000 + 160 * i));
    // the new source starts far away: SEQ 40000 (a jump > 2^15), timestamp anywhere
    const out = [0, 1, 2].map((i) => {
      const p = rtp(0x2222, 40000 + i, 999_000 + 160 * i);
      r.rtp(p);
      return p;
    });
    expect(out.map(seqOf)).toEqual([105, 106, 107]);
    expect(out.map(tsOf)).toEqual([8000 + 160 * 5, 8000 + 160 * 6, 8000 + 160 * 7]);
    expect(out.map(marker)).toEqual([true, false, false]);
    expect(out.every((p) => p.readUInt32BE(8) === OURS)).toBe(true);
    expect(r.switches).toBe(1);
  });

  it('uses the previous source’s frame step (48 kHz opus: 960)', () => {
    const r = new SourceRebaser(OURS);
    r.rtp(rtp(1, 10, 0));
    r.rtp(rtp(1, 11, 960));
    const p = rtp(2, 5, 77);
    r.rtp(p);
    expect(tsOf(p)).toBe(1920);
  });

  it('wraps SEQ and timestamp modulo 2^16 / 2^32', () => {
    const r = new SourceRebaser(OURS);
    r.rtp(rtp(1, 0xfffe, 0xffffff00));
    r.rtp(rtp(1, 0xffff, 0xffffffa0));
    const p = rtp(2, 1234, 5);
    r.rtp(p);
    expect(seqOf(p)).toBe(0);
    expect(tsOf(p)).toBe(0x40); // 0xffffffa0 + 0xa0 mod 2^32
  });

  it('keeps a late packet of the current source in place and rebases from the highest SEQ sent', () => {
    const r = new SourceRebaser(OURS);
    r.rtp(rtp(1, 10, 1600));
    r.rtp(rtp(1, 12, 1920));
    const late = rtp(1, 11, 1760);
    r.rtp(late);
    expect(seqOf(late)).toBe(11);
    const next = rtp(2, 500, 0);
    r.rtp(next);
    expect(seqOf(next)).toBe(13);
  });

  it('leaves the payload, PT and other header bits alone', () => {
    const r = new SourceRebaser(OURS);
    r.rtp(rtp(1, 1, 1));
    const p = rtp(2, 9, 9, 101, Buffer.from([1, 2, 3]));
    r.rtp(p);
    expect(p[0]).toBe(0x80);
    expect(p[1]! & 0x7f).toBe(101);
    expect(p.subarray(12)).toEqual(Buffer.from([1, 2, 3]));
  });

  it('RTCP: our sender SSRC, and an SR of the current source gets its RTP timestamp shifted', () => {
    const r = new SourceRebaser(OURS);
    r.rtp(rtp(1, 100, 1000));
    r.rtp(rtp(2, 7, 50)); // rebased: tsDelta = 1160 - 50
    const sr = Buffer.alloc(28);
    sr[0] = 0x80;
    sr[1] = 200;
    sr.writeUInt32BE(2, 4);
    sr.writeUInt32BE(5000, 16);
    r.rtcp(sr);
    expect(sr.readUInt32BE(4)).toBe(OURS);
    expect(sr.readUInt32BE(16)).toBe(5000 + 1160 - 50);
    const rr = Buffer.from([0x80, 201, 0, 1, 0, 0, 0, 2]);
    r.rtcp(rr);
    expect(rr.readUInt32BE(4)).toBe(OURS);
  });

  it('an RFC 3711 receiver accepts every packet after a source change (without rebasing it would not)', () => {
    const key = Buffer.alloc(16, 1);
    const salt = Buffer.alloc(14, 2);
    const run = (rebase: boolean): number => {
      const sender = new SrtpContext(key, salt);
      const receiver = new SrtpContext(key, salt);
      const r = new SourceRebaser(OURS);
      let accepted = 0;
      const send = (p: Buffer) => {
        if (rebase) r.rtp(p);
        else p.writeUInt32BE(OURS, 8);
        if (receiver.unprotectRtp(sender.protectRtp(p))) accepted++;
      };
      for (let i = 0; i < 50; i++) send(rtp(1, 100 + i, 160 * i));
      // 2^15+ ahead while the ROC is 0: RFC 3711 §3.3.1 estimates ROC - 1, i.e. a packet from before
      // the stream began, which the receiver drops
      for (let i = 0; i < 50; i++) send(rtp(2, 40000 + i, 160 * i));
      return accepted;
    };
    expect(run(true)).toBe(100);
    expect(run(false)).toBeLessThan(100);
  });
});
