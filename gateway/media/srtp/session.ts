// One direction's session crypto for SRTP or SRTCP: cipher, MAC and the salt the IV is made from.
import { AesCm, HmacSha1 } from './cipher.js';
import type { SrtpSessionKeySet } from './kdf.js';

/** The IV scratch, one per thread: crypt() writes all of it before each use (bytes 14..15 stay zero). */
const iv = Buffer.alloc(16);

export class SessionCrypto {
  readonly aes: AesCm;
  readonly hmac: HmacSha1;
  private readonly salt: Uint8Array;

  constructor(keys: SrtpSessionKeySet) {
    this.aes = new AesCm(keys.encKey);
    this.hmac = new HmacSha1(keys.authKey);
    // A copy of its own: Buffer.from() of 14 bytes would be a slice of Node's shared 8 KiB allocation pool,
    // and a context living as long as its call would keep a whole pool slab alive (≈ 9 KiB a call, measured).
    this.salt = new Uint8Array(keys.salt);
  }

  /**
   * RFC 3711 §4.1.1: "IV = (k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16)" — salt in bytes 0..13,
   * SSRC XORed into bytes 4..7, the 48-bit index i (ROC || SEQ for SRTP, the SRTCP index for SRTCP)
   * into bytes 8..13; bytes 14..15 stay zero for the block counter. Then XOR the keystream into
   * buf[start, end) in place.
   */
  crypt(buf: Buffer, start: number, end: number, ssrc: number, index: number): void {
    const s = this.salt;
    const hi = Math.floor(index / 0x10000) >>> 0;
    const lo = index & 0xffff;
    iv[0] = s[0]!;
    iv[1] = s[1]!;
    iv[2] = s[2]!;
    iv[3] = s[3]!;
    iv[4] = s[4]! ^ (ssrc >>> 24);
    iv[5] = s[5]! ^ ((ssrc >>> 16) & 0xff);
    iv[6] = s[6]! ^ ((ssrc >>> 8) & 0xff);
    iv[7] = s[7]! ^ (ssrc & 0xff);
    iv[8] = s[8]! ^ (hi >>> 24);
    iv[9] = s[9]! ^ ((hi >>> 16) & 0xff);
    iv[10] = s[10]! ^ ((hi >>> 8) & 0xff);
    iv[11] = s[11]! ^ (hi & 0xff);
    iv[12] = s[12]! ^ (lo >>> 8);
    iv[13] = s[13]! ^ (lo & 0xff);
    this.aes.xorInPlace(iv, buf, start, end);
  }
}
