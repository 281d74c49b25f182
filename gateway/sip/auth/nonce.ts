// Stateless nonces and bounded nonce-count replay tracking (RFC 7616 §3.3, §5.5; RFC 2617 §4.5).
import { createHmac, timingSafeEqual } from 'node:crypto';
import { randomInto } from '../../lib/random-pool.js';

/** 48-bit milliseconds since 1970 (good until the year 10889). */
const TS_BYTES = 6;
/** Two nonces issued in the same millisecond differ by it (their nonce counts are tracked apart). */
const SALT_BYTES = 3;
/** HMAC-SHA256 truncated to 96 bits (RFC 2104 §5 allows truncation to at least half the hash and 80 bits;
 *  SRTP and IPsec authenticate with 80/96). A forger gains nothing but a fresh-looking nonce — the digest
 *  still needs the password — and has one online guess per request against 2^96. */
const MAC_BYTES = 12;
const NONCE_BYTES = TS_BYTES + SALT_BYTES + MAC_BYTES;

function mac(secret: Buffer, head: Buffer, realm: string): Buffer {
  return createHmac('sha256', secret).update(head).update('|').update(realm, 'utf8').digest().subarray(0, MAC_BYTES);
}

/** nonce = base64url(timestamp ‖ salt ‖ HMAC-SHA256-96(secret, timestamp ‖ salt | realm)): 21 bytes, 28
 *  characters — short, because an unauthenticated UDP request's challenge must fit in the request's own
 *  size (sip/transport/budget.ts). RFC 7616 §3.3 suggests "time-stamp H(time-stamp ":" ETag ":"
 *  secret-data)"; the salt keeps two nonces issued in the same millisecond distinct. */
export function issueNonce(secret: Buffer, realm: string, nowMs: number): string {
  const head = Buffer.alloc(TS_BYTES + SALT_BYTES);
  head.writeUIntBE(Math.max(0, Math.floor(nowMs)), 0, TS_BYTES);
  randomInto(head, TS_BYTES, SALT_BYTES);
  return Buffer.concat([head, mac(secret, head, realm)]).toString('base64url');
}

/** The issue time (ms) of a nonce we issued for this realm, or undefined if it is not authentic. */
export function nonceIssuedAt(secret: Buffer, realm: string, nonce: string): number | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(nonce)) return undefined;
  const raw = Buffer.from(nonce, 'base64url');
  if (raw.length !== NONCE_BYTES) return undefined;
  const head = raw.subarray(0, TS_BYTES + SALT_BYTES);
  if (!timingSafeEqual(raw.subarray(TS_BYTES + SALT_BYTES), mac(secret, head, realm))) return undefined;
  return head.readUIntBE(0, TS_BYTES);
}

export type NonceCountVerdict = 'ok' | 'replay' | 'forgotten';

interface Entry {
  nc: number;
  issuedAt: number;
  expiresAt: number;
}

/** Remembers the highest nonce-count seen per nonce, bounded in size. Entries die with their nonce.
 *  When full, the entry used least recently is evicted and every nonce issued at or before it counts as
 *  'forgotten' (answered stale=true so the client fetches a new nonce): a replay can never slip through. */
export class NonceCountTracker {
  /** In least-recently-used order (an accepted count moves its nonce to the end). */
  private readonly entries = new Map<string, Entry>();
  /** The same entries in the order they were first seen: nonces live a fixed time from issue, so this
   *  is (nearly) expiry order and expired ones are dropped from its front — no scan of every entry. */
  private readonly firstSeen = new Map<string, Entry>();
  private floor = Number.NEGATIVE_INFINITY;

  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** RFC 7616 §3.4: "the server ... can detect request replays by maintaining its own copy of this count
   *  — if the same nc-value is seen twice, then the request is a replay." We require strict increase. */
  accept(nonce: string, nc: number, issuedAt: number, expiresAt: number, now: number): NonceCountVerdict {
    const entry = this.entries.get(nonce);
    if (entry) {
      if (nc <= entry.nc) return 'replay';
      entry.nc = nc;
      this.entries.delete(nonce); // re-insert: Map order becomes least-recently-used first
      this.entries.set(nonce, entry);
      return 'ok';
    }
    if (issuedAt <= this.floor) return 'forgotten';
    this.makeRoom(now);
    const fresh = { nc, issuedAt, expiresAt };
    this.entries.set(nonce, fresh);
    this.firstSeen.set(nonce, fresh);
    return 'ok';
  }

  /** Drops expired entries from the front of first-seen order (amortised O(1) per new nonce), then, if
   *  still full, evicts the least recently used and raises the floor over it. */
  private makeRoom(now: number): void {
    for (const [key, e] of this.firstSeen) {
      if (e.expiresAt > now) break;
      this.firstSeen.delete(key);
      this.entries.delete(key);
    }
    while (this.entries.size >= this.maxEntries) {
      const [key, e] = this.entries.entries().next().value as [string, Entry];
      this.entries.delete(key);
      this.firstSeen.delete(key);
      this.floor = Math.max(this.floor, e.issuedAt);
    }
  }
}
