// RFC 3550 appendix A.1 / A.3 / A.8 receive statistics (gateway/media/rtcp/receiver.ts).
import { describe, expect, it } from 'vitest';
import { IN_ORDER, LATE, NOT_COUNTED, SourceStats } from '../../../gateway/media/rtcp/receiver.js';

function feed(seqs: number[], first = seqs[0]!): SourceStats {
  const s = new SourceStats(1234, first);
  for (const seq of seqs) s.update(seq & 0xffff);
  return s;
}

const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

describe('RTP receive statistics (RFC 3550 A.1, A.3)', () => {
  it('probation: the first packet only starts the count; base is the second (A.1 init_seq)', () => {
    const s = new SourceStats(1, 100);
    expect(s.update(100)).toBe(NOT_COUNTED);
    expect(s.expected).toBe(0);
    expect(s.update(101)).toBe(IN_ORDER);
    expect([s.expected, s.received, s.lost]).toEqual([1, 1, 0]);
  });

  it('a clean stream: nothing lost; gaps count as lost', () => {
    expect(feed(range(10, 100)).lost).toBe(0);
    const gaps = feed(range(10, 100).filter((q) => q % 10 !== 5));
    expect([gaps.expected, gaps.lost]).toEqual([99, 10]);
  });

  it('sequence wrap: cycles counted, extended highest continues past 65535', () => {
    const s = feed(range(65530, 20));
    expect(s.extendedMax).toBe(65536 + ((65530 + 19) & 0xffff));
    expect([s.expected, s.lost]).toEqual([19, 0]);
  });

  it('reorder: a late packet is received, not lost, and does not move the highest', () => {
    const s = feed([1, 2, 3, 5, 6]);
    expect(s.update(4)).toBe(LATE);
    expect(s.update(7)).toBe(IN_ORDER);
    expect([s.extendedMax, s.expected, s.lost]).toEqual([7, 6, 0]);
    // reordered across the wrap: 65535 arriving after 0
    const w = feed([65533, 65534, 0, 65535, 1]);
    expect([w.extendedMax, w.expected, w.lost]).toEqual([65536 + 1, 4, 0]);
  });

  it('duplicates are counted as received (A.1), so cumulative loss can go negative; the interval fraction stays 0', () => {
    const s = feed([1, 2, 3, 3, 3, 4]);
    expect([s.expected, s.received, s.lost]).toEqual([3, 5, -2]);
    expect(s.interval()).toEqual({ expected: 3, lost: -2, fraction: 0 });
  });

  it('a very large jump is taken as a restart after two sequential packets (A.1 bad_seq)', () => {
    const s = feed([...range(1, 10), 30000]);
    expect(s.expected).toBe(9);
    s.update(30001);
    expect([s.expected, s.received, s.extendedMax]).toEqual([1, 1, 30001]);
  });

  it('A.3 interval: fraction lost ×256 since the previous report', () => {
    const s = new SourceStats(1, 0);
    for (const q of range(0, 101)) if (q % 20 !== 7) s.update(q); // 5 lost of 100 expected (base = 1)
    expect(s.interval()).toEqual({ expected: 100, lost: 5, fraction: Math.floor((5 * 256) / 100) });
    for (const q of range(101, 50)) s.update(q);
    expect(s.interval()).toEqual({ expected: 50, lost: 0, fraction: 0 });
    expect(s.interval()).toEqual({ expected: 0, lost: 0, fraction: 0 });
    expect(s.lost).toBe(5);
  });

  it('A.8 jitter: steady timing gives 0; alternating ±d transit converges to d', () => {
    const steady = new SourceStats(1, 0);
    for (let i = 0; i < 50; i++) steady.jitterSample(1000 + i * 160, i * 160);
    expect(steady.jitter).toBe(0);
    const wobbly = new SourceStats(1, 0);
    for (let i = 0; i < 300; i++) wobbly.jitterSample(1000 + i * 160 + (i % 2) * 80, i * 160);
    expect(wobbly.jitter).toBeCloseTo(80, 3);
  });

  it('A.8 across the 32-bit timestamp wrap', () => {
    const s = new SourceStats(1, 0);
    for (let i = 0; i < 100; i++) s.jitterSample(5e9 + i * 160, (2 ** 32 - 800 + i * 160) >>> 0);
    expect(s.jitter).toBeCloseTo(0, 6);
  });
});
