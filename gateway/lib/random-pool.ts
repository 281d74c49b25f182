// Random bytes for the signalling hot path (tags, branches, Call-IDs, nonce salts) from a pool refilled
// 4 KiB at a time from the CSPRNG (node:crypto randomFillSync): a randomBytes() call per value cost
// 3–4 µs, a slice of the pool 0.1–0.3 µs — and a call takes several. Same generator, same quality
// (node:crypto's randomUUID keeps such a cache too); never for keys.
import { randomFillSync } from 'node:crypto';

const POOL = Buffer.allocUnsafe(4096);
let at = POOL.length;

function take(bytes: number): number {
  if (bytes > POOL.length) throw new RangeError('random-pool: at most 4096 bytes at a time');
  if (at + bytes > POOL.length) {
    randomFillSync(POOL);
    at = 0;
  }
  const start = at;
  at += bytes;
  return start;
}

/** `bytes` random bytes as base64url text ([A-Za-z0-9_-]: SIP token characters). */
export function randomToken(bytes: number): string {
  const start = take(bytes);
  return POOL.toString('base64url', start, start + bytes);
}

/** Copies `bytes` random bytes into `target` at `offset`. */
export function randomInto(target: Buffer, offset: number, bytes: number): void {
  const start = take(bytes);
  POOL.copy(target, offset, start, start + bytes);
}
