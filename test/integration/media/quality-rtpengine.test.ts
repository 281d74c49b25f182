// Per-leg figures with media.engine rtpengine: a real userspace rtpengine (127.0.120.11) between two UDP
// peers (127.0.120.12). engine.quality() reads ng `query`: each tag's packets and RTCP as rtpengine
// counted them (the trunk side drops 5 % of its RTP itself: its count shows it), and after delete() the
// last figures read stay available for the call record. Loss, jitter and MOS with rtpengine come only from
// its RTCP-derived SSRC statistics (unit test: test/unit/media/rtpengine/quality.test.ts).
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

  it('packets and RTCP per tag from ng query while the call is up; the last figures after delete', async () => {
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
      const rr = (from: number, about: number) => serialiseRtcp([{ type: 'rr', ssrc: from, reports: [{ ssrc: about, fractionLost: 0, cumulativeLost: 0, highestSeq: N - 1, jitter: 8, lsr: 0, dlsr: 0 }] }, sdesCname(from, 'x')]);
      phoneRtcp.send(rr(0x5050, 0x7a7a), toPhoneSide + 1, RTPENGINE);
      trunkRtcp.send(rr(0x7a7a, 0x5050), toTrunkSide + 1, RTPENGINE);
      trunkRtcp.send(rr(0x7a7a, 0x5050), toTrunkSide + 1, RTPENGINE);
      const leg = async (tag: string) => (await engine.quality!('rq'))!.legs.find((l) => l.tag === tag)!;
      let t = await leg('trunk');
      for (const end = Date.now() + 3000; (t.in.packets < N - dropped || t.rtcpIn < 2) && Date.now() < end; t = await leg('trunk')) await new Promise((r) => setTimeout(r, 50));
      const p = await leg('phone');
      expect(dropped).toBeGreaterThan(0);
      expect(t).toMatchObject({ profile: 'rtp', rtcpIn: 2 });
      expect(t.in.packets).toBe(N - dropped);
      expect(p).toMatchObject({ rtcpIn: 1 });
      expect(p.in.packets).toBe(N);
      expect(t.out.packets).toBe(N);
      await engine.delete('rq');
      const final = await engine.quality!('rq');
      expect(final?.source).toBe('rtpengine');
      expect(final!.legs.find((l) => l.tag === 'trunk')!.in.packets).toBe(N - dropped);
    } finally {
      for (const s of [trunk, phone, trunkRtcp, phoneRtcp]) s.close();
    }
  });
});
