// lib/random-pool.ts: values across pool refills are well-formed and do not repeat.
import { describe, expect, it } from 'vitest';
import { randomInto, randomToken } from '../../../gateway/lib/random-pool.js';

describe('random pool', () => {
  it('gives base64url tokens of the asked size, unique over several refills', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 5000; i++) {
      const t = randomToken(9); // 12 characters
      expect(t).toMatch(/^[A-Za-z0-9_-]{12}$/);
      seen.add(t);
    }
    expect(seen.size).toBe(5000);
  });

  it('copies bytes into a buffer at an offset, leaving the rest alone', () => {
    const b = Buffer.alloc(16, 0xee);
    const samples = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      randomInto(b, 4, 6);
      samples.add(b.subarray(4, 10).toString('hex'));
      expect(b.subarray(0, 4).equals(Buffer.alloc(4, 0xee))).toBe(true);
      expect(b.subarray(10).equals(Buffer.alloc(6, 0xee))).toBe(true);
    }
    expect(samples.size).toBe(2000);
    expect(() => randomToken(5000)).toThrow(RangeError);
  });
});
