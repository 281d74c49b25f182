// Per-leg quality through the embedded engine on real sockets (127.0.120.x): a trunk-side sender drops 5 %
// of its RTP itself (seeded, one packet in every 20), the phone side sends all of it; the gateway's figures
// show 5 % lost on the trunk leg and none on the other, its own RTCP receiver reports arrive at the trunk's
// RTCP socket with the trunk's SSRC and exactly the loss the sender knows it caused, the trunk's reply to the
// gateway's SR gives the round trip, and a sender with known timing perturbation shows as jitter.
import dgram from 'node:dgram';
import * as sdpTransform from 'sdp-transform';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../gateway/log.js';
import { createEmbeddedMediaEngine, type EmbeddedMediaEngine } from '../../../gateway/media/index.js';
import { parseRtcp, serialiseRtcp, type ReportBlock, type RtcpPacket } from '../../../gateway/media/rtcp/packet.js';
import type { LegQuality } from '../../../gateway/media/quality.js';
import { rng } from '../../support/rng.js';
import { until } from './peers.js';

const GATEWAY = '127.0.120.1';
const TRUNK = '127.0.120.2';
const PHONE = '127.0.120.3';

interface Peer {
  rtp: dgram.Socket;
  rtcp: dgram.Socket;
  rtcpIn: RtcpPacket[][];
  /** When each of rtcpIn arrived (performance.now()). */
  rtcpAt: number[];
  close(): Promise<void>;
}

async function bind(address: string): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, address, resolve));
  return s;
}

async function peer(address: string): Promise<Peer> {
  const [rtp, rtcp] = [await bind(address), await bind(address)];
  const rtcpIn: RtcpPacket[][] = [];
  const rtcpAt: number[] = [];
  rtcp.on('message', (msg) => {
    rtcpIn.push(parseRtcp(msg));
    rtcpAt.push(performance.now());
  });
  const close = (s: dgram.Socket) => new Promise<void>((resolve) => s.close(() => resolve()));
  return { rtp, rtcp, rtcpIn, rtcpAt, close: async () => void (await Promise.all([close(rtp), close(rtcp)])) };
}

function sdp(p: Peer, address: string, ptime = 20): string {
  return ['v=0', `o=x 1 1 IN IP4 ${address}`, 's=-', `c=IN IP4 ${address}`, 't=0 0', `m=audio ${p.rtp.address().port} RTP/AVP 0`, 'a=rtpmap:0 PCMU/8000', `a=rtcp:${p.rtcp.address().port}`, `a=ptime:${ptime}`, 'a=sendrecv', ''].join('\r\n');
}

function rtp(ssrc: number, seq: number, ts: number): Buffer {
  const b = Buffer.alloc(172, 0xd5);
  b[0] = 0x80;
  b[1] = 0;
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE(ts >>> 0, 4);
  b.writeUInt32BE(ssrc, 8);
  return b;
}

/** Sends packet i at start + at(i) ms (timers aimed at absolute targets, so errors do not add up); returns
 *  when each packet really left (ms), to compute the jitter the receiver should see from what happened. */
async function send(socket: dgram.Socket, port: number, count: number, make: (i: number) => Buffer | undefined, at: (i: number) => number): Promise<number[]> {
  const start = performance.now();
  const left: number[] = [];
  for (let i = 0; i < count; i++) {
    const wait = start + at(i) - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const packet = make(i);
    if (packet) socket.send(packet, port, GATEWAY);
    left.push(performance.now());
  }
  return left;
}

/** RFC 3550 A.8 over the departure times: the jitter a receiver on a perfect network would compute (ms). */
function jitterOf(left: number[], tsOf: (i: number) => number, rate = 8000): number {
  let j = 0;
  for (let i = 1; i < left.length; i++) {
    const d = (left[i]! - left[i - 1]!) - ((tsOf(i) - tsOf(i - 1)) * 1000) / rate;
    j += (Math.abs(d) - j) / 16;
  }
  return j;
}

function blocksAbout(p: Peer, ssrc: number): ReportBlock[] {
  return p.rtcpIn.flatMap((compound) => compound.flatMap((x) => (x.type === 'other' ? [] : x.reports))).filter((b) => b.ssrc === ssrc);
}

describe('per-leg quality and the gateway\'s own RTCP (embedded engine, media.rtcp: generate)', () => {
  let engine: EmbeddedMediaEngine;
  const peers: Peer[] = [];

  beforeEach(async () => {
    const from = 40000 + 4 * Math.floor(Math.random() * 1000);
    engine = await createEmbeddedMediaEngine({ bindAddress: GATEWAY, portRange: { from, to: from + 3 }, logger: createLogger('silent'), rtcp: 'generate', rtcpMinIntervalMs: 1000 });
  });

  afterEach(async () => {
    await Promise.all(peers.splice(0).map((p) => p.close()));
    await engine.close();
  });

  async function call(ptime = 20): Promise<{ trunk: Peer; phone: Peer; toTrunkSide: number; toPhoneSide: number }> {
    const [trunk, phone] = [await peer(TRUNK), await peer(PHONE)];
    peers.push(trunk, phone);
    const offer = await engine.offer({ callId: 'q', fromTag: 'trunk', sdp: sdp(trunk, TRUNK, ptime), toProfile: 'rtp', peerAddress: TRUNK });
    const toPhoneSide = sdpTransform.parse(offer.sdp).media[0]!.port;
    const answer = await engine.answer({ callId: 'q', fromTag: 'trunk', toTag: 'phone', sdp: sdp(phone, PHONE, ptime), peerAddress: PHONE });
    const toTrunkSide = sdpTransform.parse(answer.sdp).media[0]!.port;
    return { trunk, phone, toTrunkSide, toPhoneSide };
  }

  const leg = async (tag: string): Promise<LegQuality> => (await engine.quality('q'))!.legs.find((l) => l.tag === tag)!;

  it('5 % dropped by the trunk-side sender: 5 % ±1 on that leg, ~0 on the other; its RRs carry the trunk SSRC and the exact loss', async () => {
    const { trunk, phone, toTrunkSide, toPhoneSide } = await call();
    const N = 400;
    const [TRUNK_SSRC, PHONE_SSRC, SEQ0] = [0x7a7a0001, 0x50500002, 65400]; // the trunk's SEQ wraps mid-call
    const random = rng(120);
    const dropped = new Set<number>();
    for (let block = 0; block < N / 20; block++) dropped.add(block * 20 + 3 + Math.floor(random() * 16)); // never the first 3 or a block's last
    await Promise.all([
      send(trunk.rtp, toTrunkSide, N, (i) => (dropped.has(i) ? undefined : rtp(TRUNK_SSRC, SEQ0 + i, i * 160)), (i) => i * 5),
      send(phone.rtp, toPhoneSide, N, (i) => rtp(PHONE_SSRC, 100 + i, 9000 + i * 160), (i) => i * 5),
    ]);
    await until(() => blocksAbout(trunk, TRUNK_SSRC).some((b) => b.highestSeq === SEQ0 + N - 1), 8000, 'a gateway RR covering the whole trunk stream');

    const trunkLeg = await leg('trunk');
    expect(trunkLeg.in).toMatchObject({ packets: N - 20, expected: N - 1, lost: 20 });
    expect(Math.abs(trunkLeg.in.lossPercent! - 5)).toBeLessThanOrEqual(1);
    const phoneLeg = await leg('phone');
    expect(phoneLeg.in).toMatchObject({ packets: N, lost: 0, lossPercent: 0 });
    expect(trunkLeg.out.packets).toBe(N); // the phone's stream, relayed to the trunk
    expect(phoneLeg.out.packets).toBe(N - 20);

    // every report block about the trunk's stream says exactly what the sender knows it dropped
    const base = SEQ0 + 1; // RFC 3550 A.1: the first packet only starts the probation
    const lostUpTo = (h: number) => [...dropped].filter((i) => SEQ0 + i >= base && SEQ0 + i <= h).length;
    let prior = { h: base - 1, lost: 0 };
    const blocks = blocksAbout(trunk, TRUNK_SSRC);
    for (const b of blocks) {
      expect(b.cumulativeLost).toBe(lostUpTo(b.highestSeq));
      const expectedInterval = b.highestSeq - prior.h;
      const lostInterval = lostUpTo(b.highestSeq) - prior.lost;
      expect(b.fractionLost).toBe(expectedInterval === 0 || lostInterval <= 0 ? 0 : Math.floor((lostInterval * 256) / expectedInterval));
      prior = { h: b.highestSeq, lost: lostUpTo(b.highestSeq) };
    }
    expect(blocks.at(-1)!.cumulativeLost).toBe(20);
    // the phone gets reports about its own stream: nothing lost
    await until(() => blocksAbout(phone, PHONE_SSRC).some((b) => b.highestSeq === 100 + N - 1), 8000, 'a gateway RR covering the phone stream');
    expect(blocksAbout(phone, PHONE_SSRC).every((b) => b.cumulativeLost === 0 && b.fractionLost === 0)).toBe(true);
    // the gateway speaks for the stream it sends each peer: SRs toward the trunk carry the phone's SSRC
    const srs = trunk.rtcpIn.flat().filter((p) => p.type === 'sr');
    expect(srs.length).toBeGreaterThan(0);
    expect(srs.every((p) => p.ssrc === PHONE_SSRC)).toBe(true);
  });

  it('the round trip from the trunk\'s RR answering the gateway\'s SR (LSR/DLSR), and the trunk\'s reported loss as the out figures', async () => {
    const { trunk, phone, toTrunkSide, toPhoneSide } = await call();
    const PHONE_SSRC = 0x50500003;
    await send(phone.rtp, toPhoneSide, 100, (i) => rtp(PHONE_SSRC, i, i * 160), (i) => i * 5);
    await until(() => trunk.rtcpIn.some((c) => c[0]!.type === 'sr'), 8000, 'an SR from the gateway at the trunk');
    const at = trunk.rtcpIn.findIndex((c) => c[0]!.type === 'sr');
    const sr = trunk.rtcpIn[at]![0]!;
    if (sr.type !== 'sr') throw new Error('not an SR');
    expect(sr.ssrc).toBe(PHONE_SSRC);
    expect(sr.sender.packetCount).toBe(100);
    const lsr = (((sr.sender.ntpSec & 0xffff) << 16) | (sr.sender.ntpFrac >>> 16)) >>> 0;
    // the trunk holds the SR ≥ 150 ms and says (DLSR) it held it 100 ms: the gateway must see the rest
    await new Promise((r) => setTimeout(r, 150));
    const held = performance.now() - trunk.rtcpAt[at]!;
    const rr: RtcpPacket = { type: 'rr', ssrc: 0x7a7a0009, reports: [{ ssrc: PHONE_SSRC, fractionLost: 26, cumulativeLost: 3, highestSeq: 99, jitter: 80, lsr, dlsr: Math.round(0.1 * 65536) }] };
    trunk.rtcp.send(serialiseRtcp([rr]), toTrunkSide + 1, GATEWAY);
    await untilAsync(async () => (await leg('trunk')).rttMs !== null, 3000, 'a round trip on the trunk leg');
    const q = await leg('trunk');
    expect(q.rttMs!).toBeGreaterThanOrEqual(held - 100 - 2);
    expect(q.rttMs!).toBeLessThan(held - 100 + 25); // loopback both ways plus the event loop's turns
    expect(q.out).toMatchObject({ packets: 100, expected: 100, lost: 3, lossPercent: 3, intervalLossPercent: 10.16, jitterMs: 10 });
    expect(q.out.mos).not.toBeNull();
    expect(q.rtcpIn).toBe(1);
    expect((await leg('phone')).rttMs).toBeNull(); // the phone never answered an SR
    // media.rtcp generate: the trunk's RTCP stops at the gateway; the phone gets only the gateway's own
    await until(() => phone.rtcpIn.length > 0, 8000, 'a report from the gateway at the phone');
    expect(phone.rtcpIn.flat().filter((p) => p.type !== 'other' && p.ssrc === 0x7a7a0009)).toEqual([]);
  });

  it('jitter: a sender whose every other packet leaves 30 ms late shows the jitter its departures had (~30 ms); a steady one next to nothing', async () => {
    const { trunk, phone, toTrunkSide, toPhoneSide } = await call(40);
    const N = 120; // 40 ms packets: 4.8 s; A.8's 1/16 gain has converged long before
    const ts = (i: number) => i * 320;
    const [late, steady] = await Promise.all([
      send(trunk.rtp, toTrunkSide, N, (i) => rtp(0x7a7a0004, i, ts(i)), (i) => i * 40 + (i % 2) * 30),
      send(phone.rtp, toPhoneSide, N, (i) => rtp(0x50500004, i, ts(i)), (i) => i * 40),
    ]);
    await untilAsync(async () => (await leg('trunk')).in.packets === N && (await leg('phone')).in.packets === N, 3000, 'all packets in');
    const [t, p] = [await leg('trunk'), await leg('phone')];
    // what the senders really did (timers on a busy machine fire late): the perturbed one ~30 ms
    const [wantLate, wantSteady] = [jitterOf(late, ts), jitterOf(steady, ts)];
    expect(wantLate).toBeGreaterThan(20);
    expect(Math.abs(t.in.jitterMs! - wantLate)).toBeLessThan(5);
    expect(Math.abs(p.in.jitterMs! - wantSteady)).toBeLessThan(5);
    expect(t.in.jitterMs!).toBeGreaterThan(p.in.jitterMs! + 10);
    expect(t.in.mos!).toBeLessThan(p.in.mos!); // the E-model counts a jitter buffer of twice the jitter as delay
    // the gateway's RR toward the trunk carries it in timestamp units (8 kHz: 30 ms = 240)
    await until(() => blocksAbout(trunk, 0x7a7a0004).length > 0, 8000, 'an RR about the jittery stream');
    expect(blocksAbout(trunk, 0x7a7a0004).at(-1)!.jitter).toBeGreaterThan(190);
  });
});

async function untilAsync(cond: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('media.rtcp relay', () => {
  it('RTCP passes between the legs unchanged and the gateway still counts the figures', async () => {
    const from = 44000 + 4 * Math.floor(Math.random() * 1000);
    const engine = await createEmbeddedMediaEngine({ bindAddress: GATEWAY, portRange: { from, to: from + 3 }, logger: createLogger('silent'), rtcp: 'relay', rtcpMinIntervalMs: 1000 });
    const [trunk, phone] = [await peer(TRUNK), await peer(PHONE)];
    try {
      const offer = await engine.offer({ callId: 'r', fromTag: 'trunk', sdp: sdp(trunk, TRUNK), toProfile: 'rtp', peerAddress: TRUNK });
      const toPhoneSide = sdpTransform.parse(offer.sdp).media[0]!.port;
      const toTrunkSide = sdpTransform.parse((await engine.answer({ callId: 'r', fromTag: 'trunk', toTag: 'phone', sdp: sdp(phone, PHONE), peerAddress: PHONE })).sdp).media[0]!.port;
      await send(trunk.rtp, toTrunkSide, 100, (i) => (i % 10 === 5 ? undefined : rtp(0x7a7a0030, i, i * 160)), (i) => i * 5);
      await send(phone.rtp, toPhoneSide, 1, () => rtp(0x50500030, 0, 0), () => 0); // latches the phone's side
      const report: RtcpPacket = { type: 'rr', ssrc: 0x50500030, reports: [{ ssrc: 0x7a7a0030, fractionLost: 25, cumulativeLost: 10, highestSeq: 99, jitter: 3, lsr: 0, dlsr: 0 }] };
      phone.rtcp.send(serialiseRtcp([report]), toPhoneSide + 1, GATEWAY);
      await until(() => trunk.rtcpIn.length > 0, 3000, 'the phone\'s RR relayed to the trunk');
      expect(trunk.rtcpIn).toEqual([[report]]);
      await new Promise((r) => setTimeout(r, 2000)); // two report intervals: nothing of the gateway's own
      expect(trunk.rtcpIn).toHaveLength(1);
      expect(phone.rtcpIn).toHaveLength(0);
      const q = (await engine.quality('r'))!.legs.find((l) => l.tag === 'trunk')!;
      expect(q.in).toMatchObject({ packets: 90, lost: 10 });
    } finally {
      await Promise.all([trunk.close(), phone.close()]);
      await engine.close();
    }
  });
});
