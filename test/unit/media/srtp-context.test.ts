// SrtpContext behaviour: round trips, sequence wrap / ROC, replay window, tampering, garbage,
// the _32 profile, and the RFC 5764 keying-material split.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SrtpContext, srtpContextsFromDtls, srtpProfileFromId } from '../../../gateway/media/srtp/index.js';
import { estimateIndex, newStreamState, replayAccept, replayCheck } from '../../../gateway/media/srtp/replay.js';

function rtp(seq: number, ssrc = 0x11223344, payload = 160): Buffer {
  const b = Buffer.alloc(12 + payload);
  b[0] = 0x80;
  b[1] = 0;
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE((seq * 160) >>> 0, 4);
  b.writeUInt32BE(ssrc, 8);
  for (let i = 12; i < b.length; i++) b[i] = (i + seq) & 0xff;
  return b;
}

function pair(profile: 'AES_CM_128_HMAC_SHA1_80' | 'AES_CM_128_HMAC_SHA1_32' = 'AES_CM_128_HMAC_SHA1_80') {
  const key = randomBytes(16);
  const salt = randomBytes(14);
  return { tx: new SrtpContext(key, salt, profile), rx: new SrtpContext(key, salt, profile) };
}

describe('SRTP round trip', () => {
  it('encrypts the payload, keeps the header, appends a 10-byte tag and decrypts back', () => {
    const { tx, rx } = pair();
    const plain = rtp(1000);
    const prot = tx.protectRtp(plain);
    expect(prot.length).toBe(plain.length + 10);
    expect(prot.subarray(0, 12).equals(plain.subarray(0, 12))).toBe(true);
    expect(prot.subarray(12, plain.length).equals(plain.subarray(12))).toBe(false);
    expect(plain.equals(rtp(1000))).toBe(true); // protect does not touch its input
    expect(rx.unprotectRtp(prot)?.equals(plain)).toBe(true);
  });

  it('keeps CSRCs and header extension in the clear (payload starts after them)', () => {
    const { tx, rx } = pair();
    const plain = Buffer.concat([Buffer.from('9200000100000002000000030000000a0000000bbede0001aabbccdd', 'hex'), Buffer.alloc(20, 7)]);
    const prot = tx.protectRtp(plain);
    expect(prot.subarray(0, 28).equals(plain.subarray(0, 28))).toBe(true);
    expect(prot.subarray(28, 48).equals(plain.subarray(28))).toBe(false);
    expect(rx.unprotectRtp(prot)?.equals(plain)).toBe(true);
  });

  it('uses a 4-byte tag for AES_CM_128_HMAC_SHA1_32 and 10 bytes for its SRTCP', () => {
    const { tx, rx } = pair('AES_CM_128_HMAC_SHA1_32');
    const plain = rtp(5);
    const prot = tx.protectRtp(plain);
    expect(prot.length).toBe(plain.length + 4);
    expect(rx.unprotectRtp(prot)?.equals(plain)).toBe(true);
    const rr = Buffer.from('81c90007aabbccdd' + '11'.repeat(24), 'hex');
    const srtcp = tx.protectRtcp(rr);
    expect(srtcp.length).toBe(rr.length + 4 + 10);
    expect(rx.unprotectRtcp(srtcp)?.equals(rr)).toBe(true);
  });

  it('survives a sequence wrap with reordering around it (ROC estimation)', () => {
    const { tx, rx } = pair();
    const seqs = [65530, 65531, 65533, 65532, 65534, 1, 65535, 0, 2, 3];
    const out = seqs.map((s) => rx.unprotectRtp(tx.protectRtp(rtp(s))));
    out.forEach((p, i) => expect(p?.equals(rtp(seqs[i]!))).toBe(true));
  });

  it('a receiver that guesses another ROC than the sender fails authentication, not decrypts garbage', () => {
    const { tx, rx } = pair();
    for (let s = 0; s < 3; s++) expect(rx.unprotectRtp(tx.protectRtp(rtp(s)))).not.toBeNull();
    tx.protectRtp(rtp(30000));
    tx.protectRtp(rtp(60000));
    const wrapped = tx.protectRtp(rtp(10000)); // sender: s_l = 60000, so SEQ 10000 is ROC 1
    expect(rx.unprotectRtp(wrapped)).toBeNull(); // receiver: s_l = 2, so it guesses ROC 0
  });

  it('the sender never throws on a SEQ jump that estimates to ROC -1', () => {
    const { tx, rx } = pair();
    tx.protectRtp(rtp(2));
    const jumped = tx.protectRtp(rtp(40000));
    expect(new SrtpContext(Buffer.alloc(16), Buffer.alloc(14)).protectRtp(rtp(40000)).length).toBe(182);
    expect(rx.unprotectRtp(jumped)?.equals(rtp(40000))).toBe(true); // fresh receiver: index = SEQ
  });
});

describe('SRTP rejection', () => {
  it('returns null for a tampered payload, header or tag and leaves the input untouched', () => {
    const { tx, rx } = pair();
    const prot = tx.protectRtp(rtp(7));
    for (const at of [1, 8, 20, prot.length - 1]) {
      const bad = Buffer.from(prot);
      bad[at] ^= 0x01;
      const copy = Buffer.from(bad);
      expect(rx.unprotectRtp(bad)).toBeNull();
      expect(bad.equals(copy)).toBe(true);
    }
    expect(rx.unprotectRtp(prot)).not.toBeNull();
  });

  it('returns null for a replayed packet, but accepts late in-window packets once', () => {
    const { tx, rx } = pair();
    const packets = [10, 11, 12, 13].map((s) => tx.protectRtp(rtp(s)));
    const copies = packets.map((p) => Buffer.from(p));
    expect(rx.unprotectRtp(packets[0]!)).not.toBeNull();
    expect(rx.unprotectRtp(packets[3]!)).not.toBeNull();
    expect(rx.unprotectRtp(Buffer.from(copies[0]!))).toBeNull(); // replay
    expect(rx.unprotectRtp(packets[1]!)).not.toBeNull(); // late, in window
    expect(rx.unprotectRtp(Buffer.from(copies[1]!))).toBeNull();
    expect(rx.unprotectRtp(Buffer.from(copies[3]!))).toBeNull();
  });

  it('drops packets older than the 64-packet window', () => {
    const { tx, rx } = pair();
    const old = tx.protectRtp(rtp(100));
    expect(rx.unprotectRtp(tx.protectRtp(rtp(99)))).not.toBeNull();
    expect(rx.unprotectRtp(tx.protectRtp(rtp(164)))).not.toBeNull();
    expect(rx.unprotectRtp(old)).toBeNull(); // 164 - 100 = 64: outside
  });

  it('never throws on garbage and returns null', () => {
    const { rx } = pair();
    const inputs = [Buffer.alloc(0), Buffer.alloc(5), Buffer.alloc(21), randomBytes(200), Buffer.from('8f' + '00'.repeat(30), 'hex')];
    for (let i = 0; i < 200; i++) inputs.push(randomBytes(i));
    for (const b of inputs) {
      expect(rx.unprotectRtp(b)).toBeNull();
      expect(rx.unprotectRtcp(b)).toBeNull();
    }
  });

  it('protect throws a clear SrtpError on malformed input', () => {
    const { tx } = pair();
    expect(() => tx.protectRtp(Buffer.alloc(8))).toThrow(/not a valid RTP packet/);
    expect(() => tx.protectRtp(Buffer.from('90000001000000000000000' + '1', 'hex'))).toThrow(/not a valid RTP/);
    expect(() => tx.protectRtcp(Buffer.alloc(4))).toThrow(/not a valid RTCP packet/);
  });
});

describe('SRTCP', () => {
  const rr = (): Buffer => Buffer.from('81c90007aabbccdd' + 'ab'.repeat(24), 'hex');

  it('encrypts after the first 8 bytes, sets E and counts the index from 0', () => {
    const { tx, rx } = pair();
    const plain = rr();
    const p0 = tx.protectRtcp(plain);
    const p1 = tx.protectRtcp(plain);
    expect(p0.subarray(0, 8).equals(plain.subarray(0, 8))).toBe(true);
    expect(p0.subarray(8, plain.length).equals(plain.subarray(8))).toBe(false);
    expect(p0.readUInt32BE(plain.length)).toBe(0x80000000);
    expect(p1.readUInt32BE(plain.length)).toBe(0x80000001);
    expect(rx.unprotectRtcp(p1)?.equals(plain)).toBe(true);
    expect(rx.unprotectRtcp(p0)?.equals(plain)).toBe(true);
  });

  it('rejects replayed and tampered SRTCP', () => {
    const { tx, rx } = pair();
    const p = tx.protectRtcp(rr());
    const copy = Buffer.from(p);
    const bad = Buffer.from(p);
    bad[10] ^= 0x80;
    expect(rx.unprotectRtcp(bad)).toBeNull();
    expect(rx.unprotectRtcp(p)).not.toBeNull();
    expect(rx.unprotectRtcp(copy)).toBeNull();
  });
});

describe('index estimation and replay window primitives', () => {
  it('estimates ROC-1, ROC and ROC+1 per RFC 3711 §3.3.1', () => {
    expect(estimateIndex(0x10005, 0xfffe)).toBe(0xfffe); // s_l small, SEQ large: previous ROC
    expect(estimateIndex(0x1fff0, 0x0003)).toBe(0x20003); // s_l large, SEQ small: next ROC
    expect(estimateIndex(0x14000, 0x4100)).toBe(0x14100);
    expect(estimateIndex(5, 0xfff0)).toBe(-1); // would need ROC -1
  });

  it('slides the 64-bit window across word boundaries', () => {
    const s = newStreamState(1000);
    for (const i of [1001, 1040, 1070]) replayAccept(s, i);
    expect(replayCheck(s, 1070)).toBe(false);
    expect(replayCheck(s, 1040)).toBe(false); // delta 30, lo word
    expect(replayCheck(s, 1039)).toBe(true);
    expect(replayCheck(s, 1007)).toBe(true); // delta 63, hi word
    expect(replayCheck(s, 1006)).toBe(false); // delta 64, outside
    replayAccept(s, 1010);
    expect(replayCheck(s, 1010)).toBe(false);
    replayAccept(s, 1200);
    expect(replayCheck(s, 1199)).toBe(true);
    expect(replayCheck(s, 1200)).toBe(false);
  });
});

describe('contexts sharing the thread\'s scratch buffers (HMAC pads, IV, counter blocks)', () => {
  it('interleaved contexts with different keys and growing packet sizes each keep their own keys', () => {
    const pairs = [pair(), pair(), pair()];
    const sizes = [20, 160, 20, 1500, 3000, 64, 1200, 7];
    for (let round = 0; round < sizes.length; round++) {
      const plain = pairs.map((_, i) => rtp(100 + round, 0x1000 + i, sizes[(round + i) % sizes.length]));
      const wire = pairs.map((p, i) => p.tx.protectRtp(plain[i]!));
      // unprotected in another order than protected: each MAC follows one computed with other pads
      for (const i of [2, 0, 1]) expect(pairs[i]!.rx.unprotectRtp(Buffer.from(wire[i]!))?.equals(plain[i]!)).toBe(true);
      expect(pairs[(round + 1) % 3]!.rx.unprotectRtp(Buffer.from(wire[round % 3]!))).toBeNull();
      const rr = Buffer.from('81c90007' + (0x2000 + round).toString(16).padStart(8, '0') + '11'.repeat(24), 'hex');
      const srtcp = pairs.map((p) => p.tx.protectRtcp(rr));
      for (const i of [1, 2, 0]) expect(pairs[i]!.rx.unprotectRtcp(srtcp[i]!)?.equals(rr)).toBe(true);
    }
  });

  it('a context gives the same wire bytes whether or not other contexts ran in between', () => {
    const key = randomBytes(16);
    const salt = randomBytes(14);
    const alone = new SrtpContext(key, salt);
    const interleaved = new SrtpContext(key, salt);
    const other = pair();
    for (let seq = 0; seq < 20; seq++) {
      const size = seq % 2 ? 1400 : 30 + seq;
      const expected = alone.protectRtp(rtp(seq, 0x55, size));
      other.tx.protectRtp(rtp(seq, 0x66, 2000 - size));
      expect(interleaved.protectRtp(rtp(seq, 0x55, size)).equals(expected)).toBe(true);
    }
  });
});

describe('RFC 5764 keying material', () => {
  it('client protects with client_write keys and the server unprotects them, and vice versa', () => {
    const km = randomBytes(60);
    const client = srtpContextsFromDtls(km, 'client');
    const server = srtpContextsFromDtls(km, 'server');
    const a = rtp(1);
    expect(server.remote.unprotectRtp(client.local.protectRtp(a))?.equals(a)).toBe(true);
    expect(client.remote.unprotectRtp(server.local.protectRtp(a))?.equals(a)).toBe(true);
    expect(client.remote.unprotectRtp(client.local.protectRtp(rtp(2)))).toBeNull();
  });

  it('splits key|key|salt|salt as 16,16,14,14', () => {
    const km = randomBytes(60);
    const direct = new SrtpContext(km.subarray(16, 32), km.subarray(46, 60));
    const { local } = srtpContextsFromDtls(km, 'server');
    expect(local.protectRtp(rtp(9)).equals(direct.protectRtp(rtp(9)))).toBe(true);
  });

  it('rejects keying material of the wrong size and maps DTLS profile ids', () => {
    expect(() => srtpContextsFromDtls(randomBytes(56), 'client')).toThrow(/must be 60 bytes/);
    expect(srtpProfileFromId(1)).toBe('AES_CM_128_HMAC_SHA1_80');
    expect(srtpProfileFromId(2)).toBe('AES_CM_128_HMAC_SHA1_32');
    expect(srtpProfileFromId(7)).toBeUndefined();
  });
});
