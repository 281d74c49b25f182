// The binding store's indexes (registrar/bindings.ts): expiries in a heap (a REGISTER does not scan every
// binding; each binding still goes when its own interval ends, its listeners told on time) and WebSocket
// flows → users (a closing flow touches only its users). Checked against a brute-force model, seeded.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BindingStore } from '../../../gateway/registrar/bindings.js';
import type { Binding } from '../../../gateway/registrar/types.js';
import { rng } from '../../support/rng.js';
import { FakeFlow } from './fakes.js';

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(0);
});
afterEach(() => vi.useRealTimers());

function binding(user: string, n: number, expiresAt: number, flow?: FakeFlow): Binding {
  return {
    user,
    contact: { scheme: 'sip', user, host: `h${n}.invalid`, params: {}, headers: {} } as unknown as Binding['contact'],
    contactText: `<sip:${user}@h${n}.invalid>`,
    transport: flow ? 'ws' : 'udp',
    source: { address: '127.0.0.1', port: 5000 + n },
    ...(flow && { flow }),
    expiresAt,
    callId: `c${n}`,
    cseq: 1,
  };
}

describe('expiry heap', () => {
  it('200 users refreshing at random: every binding goes exactly when it expires, listeners told on time', () => {
    const random = rng(150);
    const store = new BindingStore();
    const model = new Map<string, number[]>(); // user → expiries
    const seen = new Map<string, number>();
    store.onChange((user, count) => seen.set(user, count));
    const users = Array.from({ length: 200 }, (_, i) => `u${i}`);
    let n = 0;
    for (let t = 0; t < 600_000; t += 1000) {
      for (let k = 0; k < 5; k++) {
        const user = users[Math.floor(random() * users.length)]!;
        const expiries = Array.from({ length: 1 + Math.floor(random() * 3) }, () => t + 1000 + Math.floor(random() * 120_000));
        model.set(user, expiries);
        store.replace(user, expiries.map((at) => binding(user, n++, at)));
      }
      vi.advanceTimersByTime(1000);
      const now = t + 1000;
      // Brute force: what must still be there, per user, at `now` — the timer alone removed the rest.
      for (const [user, expiries] of model) {
        const live = expiries.filter((at) => at > now).length;
        if (live === 0) model.delete(user);
        expect(seen.get(user) ?? 0, `${user} at ${now}`).toBe(live);
      }
    }
    expect(store.count()).toBe([...model.values()].reduce((s, e) => s + e.filter((at) => at > 600_000).length, 0));
    store.close();
  });

  it('one timer at a time, for the earliest expiry; none once empty', () => {
    const store = new BindingStore();
    store.replace('a', [binding('a', 1, 60_000)]);
    store.replace('b', [binding('b', 2, 30_000)]);
    store.replace('b', [binding('b', 3, 90_000)]); // refreshed later: its stale entry must not fire anything
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(60_000);
    expect(store.users()).toEqual(['b']);
    vi.advanceTimersByTime(30_000);
    expect(store.users()).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('flow index', () => {
  it('a closing WebSocket drops only the bindings on it, for the users registered over it', () => {
    const store = new BindingStore();
    const seen: [string, number][] = [];
    store.onChange((user, count) => seen.push([user, count]));
    const shared = new FakeFlow('ws');
    const other = new FakeFlow('ws');
    store.replace('a', [binding('a', 1, 60_000, shared), binding('a', 2, 60_000, other)]);
    store.replace('b', [binding('b', 3, 60_000, shared)]);
    store.replace('c', [binding('c', 4, 60_000, other)]);
    seen.length = 0;
    shared.close();
    expect(seen.sort()).toEqual([['a', 1], ['b', 0]]);
    expect(store.list('a').map((b) => b.callId)).toEqual(['c2']);
    expect(store.users().sort()).toEqual(['a', 'c']);
    expect(shared.listenerCount).toBe(0);
    other.close();
    expect(store.users()).toEqual([]);
    store.close();
  });
});
