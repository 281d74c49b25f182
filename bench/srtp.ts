// Micro-benchmark: protect + unprotect of one 172-byte RTP packet (12-byte header + 160 bytes of
// G.711, AES_CM_128_HMAC_SHA1_80), ours vs werift 0.24.4's SrtpSession. Run: npx tsx bench/srtp.ts
// werift gets a pre-parsed RtpHeader whose sequence number is bumped in place (no parse per packet),
// which favours it slightly; ours works from the raw Buffer as the relay will.
import { randomBytes } from 'node:crypto';
import { RtpHeader, SrtpSession } from 'werift';
import { SrtpContext } from '../gateway/media/srtp/index.js';

const PACKETS = Number(process.env.BENCH_PACKETS ?? 50_000);
const ROUNDS = 3;
const key = randomBytes(16);
const salt = randomBytes(14);
const payload = randomBytes(160);

function makePacket(seq: number): Buffer {
  const b = Buffer.alloc(172);
  b[0] = 0x80;
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE(seq * 160, 4);
  b.writeUInt32BE(0x12345678, 8);
  payload.copy(b, 12);
  return b;
}

function oursRound(): void {
  const tx = new SrtpContext(key, salt);
  const rx = new SrtpContext(key, salt);
  const pkt = makePacket(0);
  for (let i = 0; i < PACKETS; i++) {
    pkt.writeUInt16BE(i & 0xffff, 2);
    if (rx.unprotectRtp(tx.protectRtp(pkt)) === null) throw new Error(`ours failed at ${i}`);
  }
}

function weriftRound(): void {
  const cfg = { keys: { localMasterKey: key, localMasterSalt: salt, remoteMasterKey: key, remoteMasterSalt: salt }, profile: 1 };
  const tx = new SrtpSession(cfg);
  const rx = new SrtpSession(cfg);
  const header = new RtpHeader({ payloadType: 0, sequenceNumber: 0, timestamp: 0, ssrc: 0x12345678 });
  for (let i = 0; i < PACKETS; i++) {
    header.sequenceNumber = i & 0xffff;
    if (rx.decrypt(tx.encrypt(payload, header)).length !== 172) throw new Error(`werift failed at ${i}`);
  }
}

function measure(round: () => void): number {
  round(); // warm-up (JIT, key schedules)
  let best = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    round();
    const us = Number(process.hrtime.bigint() - t0) / 1000 / PACKETS;
    best = Math.min(best, us);
  }
  return best;
}

const ours = measure(oursRound);
const werift = measure(weriftRound);
process.stdout.write(
  `SRTP protect+unprotect, 172-byte RTP, AES_CM_128_HMAC_SHA1_80, best of ${ROUNDS} × ${PACKETS} packets\n` +
    `  ours:   ${ours.toFixed(2)} µs/packet\n` +
    `  werift: ${werift.toFixed(2)} µs/packet\n` +
    `  speed-up: ${(werift / ours).toFixed(2)}×\n`,
);
