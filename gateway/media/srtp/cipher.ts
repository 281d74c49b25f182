// Per-context crypto state for SRTP: the AES-CM keystream generator (RFC 3711 §4.1.1) and HMAC-SHA1
// (RFC 3711 §4.2.1). Both keep their key schedule for the context's lifetime, so a packet costs one
// AES-ECB update and two one-shot SHA-1 hashes, with no cipher object per packet. Memory per context is
// kept small (a call has four of each): the counter blocks grow to the largest packet seen, and the HMAC's
// message scratch is one per thread, shared by every context (a MAC is computed synchronously).
import { createCipheriv, hash, type Cipher } from 'node:crypto';

const BLOCK = 16;
/** Counter blocks grow in steps of this many blocks (64 bytes), so packets of varying size (Opus) do not
 *  grow them one block at a time. */
const GROW_BLOCKS = 4;

/**
 * AES in Counter Mode as SRTP defines it. RFC 3711 §4.1.1: "the keystream is
 * E(k, IV) || E(k, IV + 1 mod 2^128) || E(k, IV + 2 mod 2^128) ...". Because every SRTP IV has its
 * low 16 bits zero ((salt·2^16) XOR (SSRC·2^64) XOR (index·2^16)), block i is the IV with its last two
 * bytes set to i, for i < 2^16 (1 MiB of keystream, far beyond any datagram). We encrypt those counter
 * blocks with one reusable AES-128-ECB cipher instead of building an aes-128-ctr cipher per packet.
 */
export class AesCm {
  private readonly ecb: Cipher;
  private counters: Buffer = Buffer.alloc(0);
  /** Counter blocks 0..ready-1 hold the IV of the previous packet (bytes 0..13) and their counters. */
  private ready = 0;
  /** The counter blocks as one view per block count (no view made per packet). */
  private views: Buffer[] = [];

  constructor(key: Buffer) {
    // ECB without padding: update() on whole blocks is stateless, so the cipher is reused forever.
    this.ecb = createCipheriv('aes-128-ecb', key, null);
    this.ecb.setAutoPadding(false);
  }

  /** Keystream of `blocks` blocks for the 16-byte `iv` (its last two bytes are the block counter and
   *  must be zero). Returns a new Buffer of blocks·16 bytes. Consecutive packets of a stream differ in an
   *  IV byte or two (the index), so only the bytes that changed are written into the counter blocks. */
  keystream(iv: Buffer, blocks: number): Buffer {
    const bytes = blocks * BLOCK;
    if (this.counters.length < bytes) {
      this.counters = Buffer.alloc(Math.ceil(blocks / GROW_BLOCKS) * GROW_BLOCKS * BLOCK);
      this.ready = 0;
      this.views = [];
    }
    const ctr = this.counters;
    const ready = Math.min(this.ready, blocks);
    for (let j = 0; j < BLOCK - 2; j++) {
      const v = iv[j]!;
      if (ctr[j] === v) continue;
      for (let at = j; at < ready * BLOCK; at += BLOCK) ctr[at] = v;
    }
    for (let b = ready; b < blocks; b++) {
      const at = b * BLOCK;
      for (let j = 0; j < BLOCK - 2; j++) ctr[at + j] = iv[j]!;
      ctr[at + 14] = (b >>> 8) & 0xff;
      ctr[at + 15] = b & 0xff;
    }
    if (blocks > this.ready) this.ready = blocks;
    const view = (this.views[blocks] ??= ctr.subarray(0, bytes));
    return this.ecb.update(view);
  }

  /** XOR the keystream for `iv` into buf[start, end) in place (encryption = decryption). */
  xorInPlace(iv: Buffer, buf: Buffer, start: number, end: number): void {
    const n = end - start;
    if (n <= 0) return;
    const ks = this.keystream(iv, Math.ceil(n / BLOCK));
    for (let i = 0; i < n; i++) buf[start + i] ^= ks[i]!;
  }
}

const SHA1_BLOCK = 64;
const SHA1_LEN = 20;

/** The thread's HMAC scratch: the inner pad followed by the message (grown to the largest message), and
 *  the outer pad followed by the inner digest. `*Key` says whose pad they hold, so a run of packets of one
 *  context copies its pads once. */
const scratch = {
  inner: Buffer.alloc(SHA1_BLOCK + 1500),
  innerKey: undefined as HmacSha1 | undefined,
  outer: Buffer.alloc(SHA1_BLOCK + SHA1_LEN),
  outerKey: undefined as HmacSha1 | undefined,
};

/**
 * HMAC-SHA1 (RFC 2104) computed as SHA1((K ^ opad) || SHA1((K ^ ipad) || m)) with the padded keys
 * precomputed once; the message is copied behind the inner pad in the shared scratch buffer so each MAC
 * is two one-shot crypto.hash() calls (measured faster than crypto.createHmac per packet).
 */
export class HmacSha1 {
  /** K ^ ipad (bytes 0..63), then K ^ opad (64..127). */
  private readonly pads = Buffer.alloc(2 * SHA1_BLOCK);

  constructor(key: Buffer) {
    if (key.length > SHA1_BLOCK) throw new RangeError('HMAC key longer than one SHA-1 block');
    this.pads.fill(0x36, 0, SHA1_BLOCK);
    this.pads.fill(0x5c, SHA1_BLOCK);
    for (let i = 0; i < key.length; i++) {
      this.pads[i] ^= key[i]!;
      this.pads[SHA1_BLOCK + i] ^= key[i]!;
    }
  }

  /** MAC over data[0, end) followed, when `roc` >= 0, by the 32-bit big-endian ROC (RFC 3711 §4.2:
   *  "M = Authenticated Portion || ROC"). Returns the full 20-byte MAC (a new Buffer). */
  mac(data: Buffer, end: number, roc: number): Buffer {
    const need = SHA1_BLOCK + end + 4;
    if (scratch.inner.length < need) {
      scratch.inner = Buffer.alloc(need);
      scratch.innerKey = undefined;
    }
    const inner = scratch.inner;
    if (scratch.innerKey !== this) {
      this.pads.copy(inner, 0, 0, SHA1_BLOCK);
      scratch.innerKey = this;
    }
    data.copy(inner, SHA1_BLOCK, 0, end);
    let len = SHA1_BLOCK + end;
    if (roc >= 0) {
      inner.writeUInt32BE(roc >>> 0, len);
      len += 4;
    }
    const innerDigest = hash('sha1', inner.subarray(0, len), 'buffer');
    const outer = scratch.outer;
    if (scratch.outerKey !== this) {
      this.pads.copy(outer, 0, SHA1_BLOCK);
      scratch.outerKey = this;
    }
    innerDigest.copy(outer, SHA1_BLOCK);
    return hash('sha1', outer, 'buffer');
  }
}

/** Constant-time comparison of the first `len` bytes of `mac` with buf[at, at + len). */
export function tagMatches(mac: Buffer, buf: Buffer, at: number, len: number): boolean {
  let diff = 0;
  for (let i = 0; i < len; i++) diff |= mac[i]! ^ buf[at + i]!;
  return diff === 0;
}
