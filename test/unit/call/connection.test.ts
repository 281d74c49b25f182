// ConnectionWatch (call/connection.ts) on fake timers: which connection changes count, and when.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConnectionWatch } from '../../../gateway/call/connection.js';
import { createLogger } from '../../../gateway/log.js';
import { FakeFlow } from './fakes.js';

afterEach(() => {
  vi.useRealTimers();
});

function watch(flow: FakeFlow, o: { answered?: boolean; graceMs?: number } = {}) {
  const events: string[] = [];
  const w = new ConnectionWatch(flow, {
    graceMs: o.graceMs ?? 1_000,
    answered: () => o.answered ?? true,
    onClosedUnanswered: () => events.push('closed-unanswered'),
    onGraceOver: () => events.push('grace-over'),
    onMoved: (f) => events.push(`moved:${f.id}`),
    log: createLogger('silent'),
  });
  return { w, events };
}

describe('ConnectionWatch', () => {
  it('answered: lost → grace → gone, reported once; a late adopt is refused', () => {
    vi.useFakeTimers();
    const old = new FakeFlow('ws-1');
    const { w, events } = watch(old);
    old.close();
    expect(w.state).toBe('lost');
    vi.advanceTimersByTime(999);
    expect(events).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(events).toEqual(['grace-over']);
    expect(w.state).toBe('gone');
    expect(w.adopt(new FakeFlow('ws-2'))).toBe(false);
    expect(events).toEqual(['grace-over']);
  });

  it('unanswered: a close ends at once, no grace', () => {
    const old = new FakeFlow('ws-1');
    const { events } = watch(old, { answered: false });
    old.close();
    expect(events).toEqual(['closed-unanswered']);
  });

  it('adopts another live stream connection, not the same one, not UDP, not a dead one', () => {
    const old = new FakeFlow('ws-1');
    const { w, events } = watch(old);
    expect(w.adopt(old)).toBe(false);
    expect(w.adopt(new FakeFlow('udp-1', 'udp'))).toBe(false);
    const dead = new FakeFlow('ws-dead');
    dead.alive = false;
    expect(w.adopt(dead)).toBe(false);
    const fresh = new FakeFlow('tcp-2', 'tcp');
    expect(w.adopt(fresh)).toBe(true);
    expect(w.flow).toBe(fresh);
    expect(events).toEqual(['moved:tcp-2']);
  });

  it('a UDP side is never watched nor moved', () => {
    const udp = new FakeFlow('udp-1', 'udp');
    const { w } = watch(udp);
    expect(w.adopt(new FakeFlow('ws-2'))).toBe(false);
  });

  it('the old connection closing after the move changes nothing; close() stops the timer', () => {
    vi.useFakeTimers();
    const old = new FakeFlow('ws-1');
    const { w, events } = watch(old);
    const fresh = new FakeFlow('ws-2');
    w.adopt(fresh);
    old.close();
    expect(w.state).toBe('connected');
    fresh.close();
    w.close();
    vi.advanceTimersByTime(10_000);
    expect(events).toEqual(['moved:ws-2']);
  });
});
