// What the page keeps in the browser (localStorage, one JSON value per key under "webphone."): the last
// user name, do-not-disturb, and each user's call history. Never a password. Storage may be disabled,
// full or hold anything (another version, a hand edit): every read is checked by its caller, every
// failure leaves the page working with what it has in memory.

export const PREFIX = 'webphone.';

/** @returns {Storage | null} */
function defaultStorage() {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null; // e.g. blocked third-party storage throws on access
  }
}

export class Store {
  /** @param {Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> | null} [storage] */
  constructor(storage = defaultStorage()) {
    this.storage = storage;
  }

  /** The stored value, or `fallback` when absent, unreadable or not JSON. @param {string} key @param {unknown} fallback @returns {unknown} */
  get(key, fallback) {
    try {
      const text = this.storage?.getItem(PREFIX + key);
      return text == null ? fallback : JSON.parse(text);
    } catch {
      return fallback;
    }
  }

  /** @param {string} key @param {unknown} value @returns {boolean} stored */
  set(key, value) {
    try {
      if (!this.storage) return false;
      this.storage.setItem(PREFIX + key, JSON.stringify(value));
      return true;
    } catch {
      return false; // quota exceeded or storage disabled: kept for this page only
    }
  }

  /** @param {string} key */
  remove(key) {
    try {
      this.storage?.removeItem(PREFIX + key);
    } catch {
      // nothing kept to remove
    }
  }
}

/** The key of a user's call history (per user: two people sharing a browser see their own calls). */
export function historyKey(/** @type {string} */ user) {
  return `history.${user.toLowerCase()}`;
}

/** The key of when that user last saw their missed calls (ms since epoch). */
export function missedSeenKey(/** @type {string} */ user) {
  return `missedSeen.${user.toLowerCase()}`;
}
