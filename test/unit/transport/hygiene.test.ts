// Connection hygiene logic with fake timers: deadlines (first message, slow-loris, idle unless bound), the
// connection caps and the descriptor reserve, the WS Origin check and the token bucket.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TokenBucket } from '../../../gateway/lib/token-bucket.js';
import { createLogger } from '../../../gateway/log.js';
import { ConnectionDeadlines, type DeadlineReason } from '../../../gateway/sip/transport/deadlines.js';
import { ConnectionGuard, FdBudget, LIMIT_DEFAULTS } from '../../../gateway/sip/transport/limits.js';
import { originAllowed } from '../../../gateway/sip/transport/ws.js';

const LIMITS = { firstMessageMs: 10_000, messageMs: 20_000, idleMs: 120_000 };

describe('ConnectionDeadlines', () => {
  let expired: DeadlineReason[];
  let bound: boolean;
  const make = (limits = LIMITS): ConnectionDeadlines => new ConnectionDeadlines(limits, () => bound, (r) => expired.push(r));
  beforeEach(() => {
    vi.useFakeTimers();
    expired = [];
    bound = false;
  });
  afterEach(() => vi.useRealTimers());

  it('closes a connection that completes no message within firstMessageMs, not a moment before', () => {
    make();
    vi.advanceTimersByTime(9_999);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(expired).toEqual(['first-message']);
  });

  it('bytes of an incomplete first message do not stop the first-message deadline', () => {
    const d = make();
    for (let t = 0; t < 9; t++) {
      vi.advanceTimersByTime(1000);
      d.progress(0, true);
    }
    vi.advanceTimersByTime(1000);
    expect(expired).toEqual(['first-message']);
  });

  it('slow-loris: a message started after the first one must complete within messageMs', () => {
    const d = make();
    vi.advanceTimersByTime(1000);
    d.progress(1, false);
    d.progress(0, true);
    // A byte every second keeps arriving, yet the message is never completed.
    for (let t = 0; t < 19; t++) {
      vi.advanceTimersByTime(1000);
      d.progress(0, true);
    }
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(1000);
    expect(expired).toEqual(['message']);
  });

  it('a completed message clears the message deadline; the next one gets its own', () => {
    const d = make();
    d.progress(1, true);
    vi.advanceTimersByTime(15_000);
    d.progress(1, false);
    vi.advanceTimersByTime(15_000);
    expect(expired).toEqual([]);
  });

  it('closes an unbound connection idle for idleMs; keep-alives (completed messages) postpone it', () => {
    const d = make();
    d.progress(1, false);
    vi.advanceTimersByTime(100_000);
    d.progress(1, false); // a CRLF keep-alive
    vi.advanceTimersByTime(119_999);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(expired).toEqual(['idle']);
  });

  it('never idle-closes a bound connection (a registration, a call); once unbound it is idle again', () => {
    const d = make();
    d.progress(1, false);
    bound = true;
    vi.advanceTimersByTime(10 * 120_000);
    expect(expired).toEqual([]);
    bound = false;
    vi.advanceTimersByTime(120_000);
    expect(expired).toEqual(['idle']);
  });

  it('0 turns a deadline off; stop() cancels everything', () => {
    const d = make({ firstMessageMs: 0, messageMs: 0, idleMs: 0 });
    d.progress(0, true);
    vi.advanceTimersByTime(3_600_000);
    expect(expired).toEqual([]);
    const e = make();
    e.stop();
    vi.advanceTimersByTime(3_600_000);
    expect(expired).toEqual([]);
  });
});

describe('ConnectionGuard', () => {
  const logger = createLogger('silent');
  const guard = (o: Partial<typeof LIMIT_DEFAULTS> = {}, exempt = (_: string) => false, fds = new FdBudget(undefined)) =>
    new ConnectionGuard({ ...LIMIT_DEFAULTS, ...o }, exempt, fds, logger);

  it('caps connections per source address, and counts a released one out', () => {
    const g = guard({ maxPerAddress: 2 });
    const a = g.admit('127.0.0.66', 'tcp');
    const b = g.admit('::ffff:127.0.0.66', 'tcp');
    expect(typeof a).toBe('function');
    expect(typeof b).toBe('function');
    expect(g.admit('127.0.0.66', 'tcp')).toBe('address');
    expect(typeof g.admit('127.0.0.67', 'ws')).toBe('function');
    (a as () => void)();
    (a as () => void)(); // idempotent
    expect(g.count('127.0.0.66')).toBe(1);
    expect(typeof g.admit('127.0.0.66', 'tcp')).toBe('function');
  });

  it('caps connections in total; trunk addresses skip both caps', () => {
    const g = guard({ maxConnections: 3, maxPerAddress: 10 }, (ip) => ip === '127.0.0.9');
    for (const ip of ['127.0.0.1', '127.0.0.2', '127.0.0.3']) expect(typeof g.admit(ip, 'tcp')).toBe('function');
    expect(g.admit('127.0.0.4', 'tcp')).toBe('connections');
    for (let i = 0; i < 20; i++) expect(typeof g.admit('127.0.0.9', 'tls')).toBe('function');
    expect(g.count()).toBe(3);
  });

  it('refuses everyone, trunks too, once open descriptors reach the limit minus the reserve', () => {
    let open = 100;
    let now = 0;
    const fds = new FdBudget(103, () => open, () => now, 250);
    const g = guard({}, (ip) => ip === '127.0.0.9', fds);
    expect(typeof g.admit('127.0.0.1', 'tcp')).toBe('function');
    expect(typeof g.admit('127.0.0.2', 'tcp')).toBe('function');
    expect(typeof g.admit('127.0.0.9', 'tcp')).toBe('function');
    // Admissions since the last count are added: 103 reached without a recount.
    expect(g.admit('127.0.0.3', 'tcp')).toBe('descriptors');
    expect(g.admit('127.0.0.9', 'tcp')).toBe('descriptors');
    open = 90;
    now = 250;
    expect(typeof g.admit('127.0.0.3', 'tcp')).toBe('function');
  });

  it('reserves at most half the descriptor limit', () => {
    expect(FdBudget.fromSystem(0).ceiling).toBeGreaterThan(0);
    const limit = FdBudget.fromSystem(0).ceiling!;
    expect(FdBudget.fromSystem(limit * 10).ceiling).toBe(Math.floor(limit / 2));
  });
});

describe('WebSocket Origin allow-list', () => {
  const page = ['http://127.0.0.1:8080'];
  it('allows the page origin (serialised: default port, case) and an absent Origin; refuses a foreign one', () => {
    expect(originAllowed('http://127.0.0.1:8080', page)).toBe(true);
    expect(originAllowed(undefined, page)).toBe(true);
    expect(originAllowed('https://evil.example', page)).toBe(false);
    expect(originAllowed('http://127.0.0.1:8081', page)).toBe(false);
    expect(originAllowed('null', page)).toBe(false);
    expect(originAllowed('HTTPS://Phone.Example.com:443', ['https://phone.example.com'])).toBe(true);
    expect(originAllowed('https://evil.example', ['*'])).toBe(true);
  });
});

describe('TokenBucket', () => {
  it('allows the burst at once, then the rate', () => {
    let now = 0;
    const b = new TokenBucket(50, 100, () => now);
    let taken = 0;
    while (b.take()) taken++;
    expect(taken).toBe(100);
    now += 1000;
    taken = 0;
    while (b.take()) taken++;
    expect(taken).toBe(50);
    now += 100_000;
    taken = 0;
    while (b.take()) taken++;
    expect(taken).toBe(100);
  });
});
