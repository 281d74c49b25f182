// media.workers → a count, and each worker's share of media.rtpPorts (gateway/media/workers/split.ts).
import { describe, expect, it } from 'vitest';
import { MIN_PORTS_PER_WORKER, resolveWorkerCount, splitPortRange } from '../../../../gateway/media/workers/split.js';

describe('media worker port split', () => {
  it('splits a range into contiguous, disjoint sub-ranges covering it, each starting on an even port', () => {
    const parts = splitPortRange({ from: 20000, to: 20999 }, 2);
    expect(parts).toEqual([{ from: 20000, to: 20499 }, { from: 20500, to: 20999 }]);
    const three = splitPortRange({ from: 20000, to: 20999 }, 3);
    expect(three[0]!.from).toBe(20000);
    expect(three.at(-1)!.to).toBe(20999);
    for (let i = 1; i < three.length; i++) {
      expect(three[i]!.from).toBe(three[i - 1]!.to + 1);
      expect(three[i]!.from % 2).toBe(0);
    }
    const sizes = three.map((r) => r.to - r.from + 1);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(2);
  });

  it('one worker gets the whole range, whatever its width', () => {
    expect(splitPortRange({ from: 41000, to: 41019 }, 1)).toEqual([{ from: 41000, to: 41019 }]);
  });

  it('refuses, naming media.workers, when a worker would get fewer than the minimum', () => {
    expect(() => splitPortRange({ from: 20000, to: 20099 }, 3)).toThrow(/media\.workers: 3 workers would get 33 ports/);
    expect(splitPortRange({ from: 20000, to: 20099 }, 2)).toHaveLength(2);
  });

  it('auto: one worker per core, fewer when the range is narrow, never none; an integer as given', () => {
    const wide = { from: 20000, to: 20999 };
    expect(resolveWorkerCount('auto', wide, 2)).toBe(2);
    expect(resolveWorkerCount('auto', wide, 64)).toBe(Math.floor(1000 / MIN_PORTS_PER_WORKER));
    expect(resolveWorkerCount('auto', { from: 41000, to: 41099 }, 4)).toBe(2);
    expect(resolveWorkerCount('auto', { from: 41000, to: 41019 }, 4)).toBe(1);
    expect(resolveWorkerCount(0, wide, 2)).toBe(0);
    expect(resolveWorkerCount(3, wide, 2)).toBe(3);
  });
});
