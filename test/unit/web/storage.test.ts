// web/storage.js: what the page keeps in the browser survives a broken storage (disabled, full, garbage).
import { describe, expect, it } from 'vitest';
import { PREFIX, Store, historyKey, missedSeenKey } from '../../../web/storage.js';

type MiniStorage = { getItem(k: string): string | null; setItem(k: string, v: string): void; removeItem(k: string): void };

function memoryStorage(): MiniStorage & { map: Map<string, string> } {
  const map = new Map<string, string>();
  return {
    map,
    getItem: (k: string) => map.get(k) ?? null,
    setItem: (k: string, v: string) => void map.set(k, String(v)),
    removeItem: (k: string) => void map.delete(k),
  };
}

describe('web/storage: Store', () => {
  it('keeps JSON values under the webphone. prefix and gives them back', () => {
    const mem = memoryStorage();
    const store = new Store(mem);
    expect(store.set('lastUser', 'alice')).toBe(true);
    expect(store.set('history.alice', [{ a: 1 }])).toBe(true);
    expect([...mem.map.keys()]).toEqual([`${PREFIX}lastUser`, `${PREFIX}history.alice`]);
    expect(store.get('lastUser', '')).toBe('alice');
    expect(store.get('history.alice', [])).toEqual([{ a: 1 }]);
    store.remove('lastUser');
    expect(store.get('lastUser', 'none')).toBe('none');
  });

  it('a value that is not JSON (a hand edit, another version) reads as the fallback', () => {
    const mem = memoryStorage();
    mem.map.set(`${PREFIX}history.bob`, '{not json');
    expect(new Store(mem).get('history.bob', [])).toEqual([]);
  });

  it('disabled or full storage: set says false, get gives the fallback, nothing throws', () => {
    const broken = {
      getItem: () => { throw new Error('SecurityError'); },
      setItem: () => { throw new Error('QuotaExceededError'); },
      removeItem: () => { throw new Error('SecurityError'); },
    };
    const store = new Store(broken);
    expect(store.set('lastUser', 'alice')).toBe(false);
    expect(store.get('lastUser', 'x')).toBe('x');
    expect(() => store.remove('lastUser')).not.toThrow();
    const none = new Store(null);
    expect(none.set('a', 1)).toBe(false);
    expect(none.get('a', 2)).toBe(2);
  });

  it('history and missed-seen keys are per user, case-insensitive', () => {
    expect(historyKey('Alice')).toBe('history.alice');
    expect(missedSeenKey('BOB')).toBe('missedSeen.bob');
    expect(historyKey('alice')).not.toBe(historyKey('bob'));
  });
});
