// Per-leg figures with media.engine rtpengine: a real userspace rtpengine (127.0.120.11) between two UDP
// peers (127.0.120.12). engine.quality() reads ng `query`: each tag's packets and RTCP as rtpengine
// counted them (the trunk side drops 5 % of its RTP itself: its count shows it), what a peer's RTCP
// receiver report answering an SR said (rtpengine's MOS, loss, jitter, round trip) as that leg's `out`,
// and after delete() the last figures read stay available for the call record.
import dgram from 'node:dgram';
import * as sdpTransform from 'sdp-transform';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../gateway/log.js';
import { createRtpengineMediaEngine } from '../../../gateway/media/rtpengine/engine.js';
import { sdesCname, serialiseRtcp } from '../../../gateway/media/rtcp/packet.js';
import type { MediaEngine } from '../../../gateway/media/types.js';
import { rng } from '../../support/rng.js';
import { startRtpengine, type Rtpengine } from './rtpengine-launch.js';

const RTPENGINE = '127.0.120.11';
const PEERS = '127.0.120.12';

async function bind(port = 0): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(port, PEERS, r));
  return s;
}

function sdp(port: number): string {
  return ['v=0', `o=x 1 1 IN IP4 ${PEERS}`, 's=-', `c=IN IP4 ${PEERS}`, 't=0 0', `m=audio ${port} RTP/AVP 0`, 'a=rtpmap:0 PCMU/8000', `a=rtcp:${port + 1}`, 'a=sendrecv', ''].join('\r\n');
}

function rtp(ssrc: number, seq: number): Buffer {
  const b = Buffer.alloc(172, 0xd5);
  b[0] = 0x80;
  b[1] = 0; // PT 0 (PCMU), no marker
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE(seq * 160, 4);
  b.writeUInt32BE(ssrc, 8);
  return b;
}

describe('per-leg figures with rtpengine', () => {
  let rtpengine: Rtpengine | undefined;
  let engine: MediaEngine;
  beforeAll(async () => {
    rtpengine = await startRtpengine({ address: RTPENGINE });
    engine = await createRtpengineMediaEngine({ address: { host: RTPENGINE, port: rtpengine.ngPort }, logger: createLogger('silent') });
  });
  afterAll(async () => {
    await engine?.close();
    await rtpengine?.stop();
  });

  it('packets and RTCP per tag, and a peer\'s reported reception with rtpengine\'s MOS, from ng query; the last figures after delete', async () => {
    const [trunk, phone] = [await bind(), await bind()];
    const [trunkRtcp, phoneRtcp] = [await bind(trunk.address().port + 1), await bind(phone.address().port + 1)];
    try {
      const offer = await engine.offer({ callId: 'rq', fromTag: 'trunk', sdp: sdp(trunk.address().port), toProfile: 'rtp' });
      const answer = await engine.answer({ callId: 'rq', fromTag: 'trunk', toTag: 'phone', sdp: sdp(phone.address().port) });
      const [toPhoneSide, toTrunkSide] = [sdpTransform.parse(offer.sdp).media[0]!.port, sdpTransform.parse(answer.sdp).media[0]!.port];
      const random = rng(122);
      const N = 200;
      let dropped = 0;
      for (let i = 0; i < N; i++) {
        if (i % 20 === 0 || random() > 0.05 || i < 3) trunk.send(rtp(0x7a7a, i), toTrunkSide, RTPENGINE);
        else dropped++;
        phone.send(rtp(0x5050, i), toPhoneSide, RTPENGINE);
        if (i % 20 === 19) await new Promise((r) => setTimeout(r, 5));
      }
      // each side sends an SR; the other answers it with an RR (LSR = the SR's NTP middle, 20 ms held):
      // rtpengine matches the two and keeps a MOS for the reported stream (its "SSRC" statistics)
      const ntpSec = Math.floor(Date.now() / 1000) + 2_208_988_800;
      const sr = (ssrc: number) => serialiseRtcp([{ type: 'sr', ssrc, sender: { ntpSec, ntpFrac: 0x40000000, rtpTimestamp: N * 160, packetCount: N, octetCount: N * 160 }, reports: [] }, sdesCname(ssrc, 'x')]);
      const lsr = ((ntpSec & 0xffff) << 16 | 0x4000) >>> 0;
      const rr = (from: number, about: number, lost: number) =>
        serialiseRtcp([{ type: 'rr', ssrc: from, reports: [{ ssrc: about, fractionLost: Math.floor((lost * 256) / N), cumulativeLost: lost, highestSeq: N - 1, jitter: 16, lsr, dlsr: 1311 }] }, sdesCname(from, 'x')]);
      trunkRtcp.send(sr(0x7a7a), toTrunkSide + 1, RTPENGINE);
      phoneRtcp.send(sr(0x5050), toPhoneSide + 1, RTPENGINE);
      await new Promise((r) => setTimeout(r, 50));
      phoneRtcp.send(rr(0x5050, 0x7a7a, dropped), toPhoneSide + 1, RTPENGINE);
      trunkRtcp.send(rr(0x7a7a, 0x5050, 0), toTrunkSide + 1, RTPENGINE);
      const leg = async (tag: string) => (await engine.quality!('rq'))!.legs.find((l) => l.tag === tag)!;
      let t = await leg('trunk');
      for (const end = Date.now() + 3000; (t.in.packets < N - dropped || t.rtcpIn < 2 || t.out.mos === null) && Date.now() < end; t = await leg('trunk')) await new Promise((r) => setTimeout(r, 50));
      const p = await leg('phone');
      expect(dropped).toBeGreaterThan(0);
      expect(t).toMatchObject({ profile: 'rtp', rtcpIn: 2 });
      expect(t.in.packets).toBe(N - dropped);
      expect(p).toMatchObject({ rtcpIn: 2 });
      expect(p.in.packets).toBe(N);
      expect(t.out.packets).toBe(N);
      // what the trunk reported about the phone's stream (0 lost, jitter 16 units = 2 ms), as rtpengine kept it
      expect(t.out).toMatchObject({ lost: 0, lossPercent: 0, jitterMs: 2 });
      expect(t.out.mos!).toBeGreaterThan(4);
      expect(t.rttMs!).toBeGreaterThan(0);
      await engine.delete('rq');
      const final = await engine.quality!('rq');
      expect(final?.source).toBe('rtpengine');
      expect(final!.legs.find((l) => l.tag === 'trunk')!.in.packets).toBe(N - dropped);
    } finally {
      for (const s of [trunk, phone, trunkRtcp, phoneRtcp]) s.close();
    }
  });
});
