// The spend alarm over a sliding hour (fake timers): a running call counts up to now, the alarm is raised
// once per crossing with a fixed log line, and again only after the spend went back under the limit.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../../gateway/log.js';
import { SpendMeter } from '../../../gateway/policy/spend.js';

beforeEach(() => vi.useFakeTimers({ now: 0 }));
afterEach(() => vi.useRealTimers());

function capture(): { lines: Array<{ level: string; msg: string }>; logger: ReturnType<typeof createLogger> } {
  const lines: Array<{ level: string; msg: string }> = [];
  return { lines, logger: createLogger('info', { write: (l: string) => void lines.push(JSON.parse(l)) }) };
}

describe('SpendMeter', () => {
  it('raises the user alarm when a running call crosses the limit, once', () => {
    const { lines, logger } = capture();
    const m = new SpendMeter({ userPerHour: 10 }, logger);
    const stop = m.start('alice', 'premium', 2); // 2 per minute: 10 after 5 minutes
    vi.advanceTimersByTime(4 * 60_000);
    m.evaluate();
    expect(m.counters.alarms.user).toBe(0);
    vi.advanceTimersByTime(60_000);
    m.evaluate();
    m.evaluate();
    expect(m.counters.alarms.user).toBe(1);
    expect(lines.map((l) => l.msg)).toEqual(['spend alarm: scope=user user=alice class=premium minutes=5.0 cost=10.00 limit=10']);
    expect(lines[0]!.level).toBe('warn');
    stop();
    expect(m.lastHour()).toEqual({ total: 10, users: { alice: 10 } });
  });

  it('the total over every user, and again after the window slid under the limit', () => {
    const { lines, logger } = capture();
    const m = new SpendMeter({ totalPerHour: 3 }, logger);
    const a = m.start('alice', 'international', 0.5);
    const b = m.start('bob', 'international', 0.5);
    vi.advanceTimersByTime(3 * 60_000);
    a();
    b(); // evaluates: 3 minutes × 2 × 0.5 = 3
    expect(m.counters.alarms.total).toBe(1);
    expect(lines.at(-1)!.msg).toBe('spend alarm: scope=total class=international minutes=6.0 cost=3.00 limit=3');
    vi.advanceTimersByTime(3_600_000);
    m.evaluate(); // the window is empty again: the alarm re-arms
    expect(m.lastHour().total).toBe(0);
    const c = m.start('carol', 'international', 1);
    vi.advanceTimersByTime(3 * 60_000);
    c();
    expect(m.counters.alarms.total).toBe(2);
  });

  it('a call of cost 0 is not counted; only the part inside the hour counts', () => {
    const { logger } = capture();
    const m = new SpendMeter({ userPerHour: 100 }, logger);
    m.start('alice', 'local', 0);
    expect(m.running).toBe(false);
    m.start('alice', 'premium', 1);
    vi.advanceTimersByTime(90 * 60_000);
    expect(m.lastHour().users.alice).toBe(60);
    expect(m.counters.alarms.user).toBe(0);
  });
});
