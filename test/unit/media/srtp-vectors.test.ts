// Known-answer tests: RFC 3711 Appendix B.2 (AES-CM keystream) and B.3 (key derivation), plus the
// libsrtp srtp_driver.c packet vectors (same master key/salt as B.3) for one SRTP and one SRTCP packet.
import { describe, expect, it } from 'vitest';
import { AesCm, SrtpContext, deriveSrtpKeys } from '../../../gateway/media/srtp/index.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('RFC 3711 B.2 AES-CM keystream', () => {
  it('matches the published blocks at counters 0, 1, 2, FEFF, FF00, FF01', () => {
    const aes = new AesCm(hex('2B7E151628AED2A6ABF7158809CF4F3C'));
    const ks = aes.keystream(hex('F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000'), 0xff02);
    const block = (i: number): string => ks.subarray(i * 16, i * 16 + 16).toString('hex').toUpperCase();
    expect(ks.length).toBe(1044512); // "Keystream segment length: 1044512 octets (65282 AES blocks)"
    expect(block(0)).toBe('E03EAD0935C95E80E166B16DD92B4EB4');
    expect(block(1)).toBe('D23513162B02D0F72A43A2FE4A5F97AB');
    expect(block(2)).toBe('41E95B3BB0A2E8DD477901E4FCA894C0');
    expect(block(0xfeff)).toBe('EC8CDF7398607CB0F2D21675EA9EA1E4');
    expect(block(0xff00)).toBe('362B7C3C6773516318A077D7FC5073AE');
    expect(block(0xff01)).toBe('6A2CC3787889374FBEB4C81B17BA6C44');
  });
});

describe('RFC 3711 B.3 key derivation', () => {
  const keys = deriveSrtpKeys(hex('E1F97A0D3E018BE0D64FA32C06DE4139'), hex('0EC675AD498AFEEBB6960B3AABE6'));

  it('derives the SRTP cipher key, salt and auth key', () => {
    expect(keys.rtp.encKey.toString('hex').toUpperCase()).toBe('C61E7A93744F39EE10734AFE3FF7A087');
    expect(keys.rtp.salt.toString('hex').toUpperCase()).toBe('30CBBC08863D8C85D49DB34A9AE1');
    expect(keys.rtp.authKey.toString('hex').toUpperCase()).toBe('CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4');
  });

  it('derives distinct SRTCP keys of the right sizes (labels 3..5)', () => {
    expect(keys.rtcp.encKey.length).toBe(16);
    expect(keys.rtcp.authKey.length).toBe(20);
    expect(keys.rtcp.salt.length).toBe(14);
    expect(keys.rtcp.encKey.equals(keys.rtp.encKey)).toBe(false);
    expect(keys.rtcp.authKey.equals(keys.rtp.authKey)).toBe(false);
  });

  it('rejects wrong master key / salt sizes with a clear error', () => {
    expect(() => deriveSrtpKeys(Buffer.alloc(15), Buffer.alloc(14))).toThrow(/master key must be 16 bytes/);
    expect(() => deriveSrtpKeys(Buffer.alloc(16), Buffer.alloc(12))).toThrow(/master salt must be 14 bytes/);
  });
});

describe('libsrtp srtp_driver known-answer packets (AES_CM_128_HMAC_SHA1_80)', () => {
  const key = hex('e1f97a0d3e018be0d64fa32c06de4139');
  const salt = hex('0ec675ad498afeebb6960b3aabe6');
  const rtpPlain = hex('800f1234decafbad cafebabe abababab abababababababab abababab');
  const srtp = hex('800f1234decafbad cafebabe 4e55dc4c e79978d88ca4d215 949d2402b78d6acc 99ea179b8dbb');
  const rtcpPlain = hex('81c8000bcafebabe abababababababab abababababababab');
  const srtcpIndex1 = hex('81c8000bcafebabe 7128035be487b9bd bef89041f977a5a8 80000001993e08cd 54d6c1230798');

  it('protects the RTP packet to the reference ciphertext and back', () => {
    const out = new SrtpContext(key, salt).protectRtp(rtpPlain);
    expect(out.toString('hex')).toBe(srtp.toString('hex'));
    expect(new SrtpContext(key, salt).unprotectRtp(Buffer.from(srtp))?.toString('hex')).toBe(rtpPlain.toString('hex'));
  });

  it('protects the second RTCP packet (SRTCP index 1) to the reference and back', () => {
    const tx = new SrtpContext(key, salt);
    const first = tx.protectRtcp(rtcpPlain);
    expect(first.readUInt32BE(first.length - 14)).toBe(0x80000000); // index 0, E=1
    const second = tx.protectRtcp(rtcpPlain);
    expect(second.toString('hex')).toBe(srtcpIndex1.toString('hex'));
    const rx = new SrtpContext(key, salt);
    expect(rx.unprotectRtcp(Buffer.from(srtcpIndex1))?.toString('hex')).toBe(rtcpPlain.toString('hex'));
  });

  it('rejects every truncation of the reference packets', () => {
    for (let len = srtp.length - 1; len >= 0; len--) {
      expect(new SrtpContext(key, salt).unprotectRtp(Buffer.from(srtp.subarray(0, len)))).toBeNull();
    }
    for (let len = srtcpIndex1.length - 1; len >= 0; len--) {
      expect(new SrtpContext(key, salt).unprotectRtcp(Buffer.from(srtcpIndex1.subarray(0, len)))).toBeNull();
    }
  });
});
