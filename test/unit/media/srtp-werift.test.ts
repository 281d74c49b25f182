// Interop against werift 0.24.4's own SRTP/SRTCP (an independent implementation) as an oracle:
// werift protects → we unprotect, and we protect → werift unprotects, across a SEQ wrap.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RtpPacket, SrtcpSession, SrtpSession } from 'werift';
import { SrtpContext } from '../../../gateway/media/srtp/index.js';

const PROFILE_80 = 1; // werift ProtectionProfileAes128CmHmacSha1_80

function keys() {
  const key = randomBytes(16);
  const salt = randomBytes(14);
  const cfg = { keys: { localMasterKey: key, localMasterSalt: salt, remoteMasterKey: key, remoteMasterSalt: salt }, profile: PROFILE_80 };
  return { key, salt, cfg };
}

function rtp(seq: number, ssrc: number, withCsrcAndExt = false): Buffer {
  const head = withCsrcAndExt
    ? Buffer.from('9100000000000000000000000000000abede000110ab0000', 'hex') // CC=1, X=1, RFC 8285 one-byte extension id 1
    : Buffer.from('800000000000000000000000', 'hex');
  head.writeUInt16BE(seq & 0xffff, 2);
  head.writeUInt32BE((seq * 160) >>> 0, 4);
  head.writeUInt32BE(ssrc, 8);
  return Buffer.concat([head, randomBytes(160)]);
}

const SEQS = Array.from({ length: 1500 }, (_, i) => (65000 + i) & 0xffff); // wraps after 536 packets

describe('SRTP interop with werift', () => {
  it('werift protect → our unprotect across a sequence wrap', () => {
    const { key, salt, cfg } = keys();
    const werift = new SrtpSession(cfg);
    const ours = new SrtpContext(key, salt);
    for (const seq of SEQS) {
      const plain = rtp(seq, 0xcafebabe, seq % 7 === 0);
      const pkt = RtpPacket.deSerialize(plain);
      const prot = werift.encrypt(pkt.payload, pkt.header);
      const got = ours.unprotectRtp(prot);
      expect(got?.equals(plain), `seq ${seq}`).toBe(true);
    }
  });

  it('our protect → werift unprotect across a sequence wrap', () => {
    const { key, salt, cfg } = keys();
    const werift = new SrtpSession(cfg);
    const ours = new SrtpContext(key, salt);
    for (const seq of SEQS) {
      const plain = rtp(seq, 0x01020304, seq % 5 === 0);
      const got = werift.decrypt(ours.protectRtp(plain));
      expect(got.equals(plain), `seq ${seq}`).toBe(true);
    }
  });

  it('a packet tampered after werift protects it is rejected by us', () => {
    const { key, salt, cfg } = keys();
    const werift = new SrtpSession(cfg);
    const ours = new SrtpContext(key, salt);
    const pkt = RtpPacket.deSerialize(rtp(1, 7));
    const prot = werift.encrypt(pkt.payload, pkt.header);
    const bad = Buffer.from(prot);
    bad[30] ^= 0xff;
    expect(ours.unprotectRtp(bad)).toBeNull();
    expect(ours.unprotectRtp(Buffer.from(prot))).not.toBeNull();
    expect(ours.unprotectRtp(Buffer.from(prot))).toBeNull(); // replay
  });
});

describe('SRTCP interop with werift', () => {
  const report = (): Buffer => Buffer.concat([Buffer.from('81c80006deadbeef', 'hex'), randomBytes(20)]);

  it('both directions, many packets', () => {
    const { key, salt, cfg } = keys();
    const werift = new SrtcpSession(cfg);
    const ours = new SrtpContext(key, salt);
    for (let i = 0; i < 300; i++) {
      const a = report();
      expect(ours.unprotectRtcp(werift.encrypt(a))?.equals(a)).toBe(true);
      const b = report();
      expect(werift.decrypt(ours.protectRtcp(b)).equals(b)).toBe(true);
    }
  });
});
