// Leases per key: concurrent calls, the sliding hour (fake timers), idempotent release, forced slots.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LimitCounter } from '../../../gateway/policy/limits.js';

beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
afterEach(() => vi.useRealTimers());

describe('LimitCounter', () => {
  it('refuses the call over maxCalls; a release (idempotent) frees exactly one slot', () => {
    const c = new LimitCounter();
    const a = c.take('alice', { maxCalls: 2 });
    const b = c.take('alice', { maxCalls: 2 });
    expect(a.ok && b.ok).toBe(true);
    expect(c.take('alice', { maxCalls: 2 })).toEqual({ ok: false, limit: 'maxCalls', value: 2 });
    expect(c.take('bob', { maxCalls: 2 }).ok).toBe(true);
    if (!a.ok) throw new Error('unreachable');
    a.lease.release();
    a.lease.release();
    expect(a.lease.released).toBe(true);
    expect(c.active('alice')).toBe(1);
    expect(c.take('alice', { maxCalls: 2 }).ok).toBe(true);
    expect(c.take('alice', { maxCalls: 2 }).ok).toBe(false);
  });

  it('counts calls per sliding hour: the 4th of 3 is refused until the first is an hour old', () => {
    const c = new LimitCounter();
    for (let i = 0; i < 3; i++) {
      const t = c.take('alice', { callsPerHour: 3 });
      if (t.ok) t.lease.release();
      vi.advanceTimersByTime(60_000);
    }
    expect(c.take('alice', { callsPerHour: 3 })).toEqual({ ok: false, limit: 'callsPerHour', value: 3 });
    expect(c.lastHour('alice')).toBe(3);
    vi.advanceTimersByTime(3_600_000 - 3 * 60_000 - 1);
    expect(c.take('alice', { callsPerHour: 3 }).ok).toBe(false);
    vi.advanceTimersByTime(1);
    expect(c.take('alice', { callsPerHour: 3 }).ok).toBe(true);
  });

  it('force takes a slot at the limit (and counts it); hourly: false leaves the hour alone', () => {
    const c = new LimitCounter();
    expect(c.take('t', { maxCalls: 1 }).ok).toBe(true);
    expect(c.take('t', { maxCalls: 1 }, { force: true }).ok).toBe(true);
    expect(c.active('t')).toBe(2);
    expect(c.take('u', { callsPerHour: 1 }, { hourly: false }).ok).toBe(true);
    expect(c.take('u', { callsPerHour: 1 }).ok).toBe(true);
    expect(c.take('u', { callsPerHour: 1 }).ok).toBe(false);
  });

  it('0 or absent: no limit; snapshot lists keys holding calls', () => {
    const c = new LimitCounter();
    for (let i = 0; i < 100; i++) expect(c.take('x', { maxCalls: 0, callsPerHour: 0 }).ok).toBe(true);
    expect(c.snapshot()).toEqual({ x: 100 });
  });
});
