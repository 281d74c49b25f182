// Plain RTP on both sides (rtp → rtp): symmetric latching, RTCP on port+1, port exhaustion.
// Loopback-only namespace, see engine-relay.test.ts.
import * as sdpTransform from 'sdp-transform';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../gateway/log.js';
import { createEmbeddedMediaEngine } from '../../../gateway/media/index.js';
import type { MediaEngine } from '../../../gateway/media/types.js';
import { bindsFree, frame, payloadOf, rtpPacket, startTrunk, until, type Trunk } from './peers.js';

function sdp(port: number, extra: string[] = []): string {
  return ['v=0', 'o=x 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${port} RTP/AVP 0`, 'a=rtpmap:0 PCMU/8000', ...extra, ''].join('\r\n');
}

describe('embedded media engine: rtp ⇄ rtp', () => {
  let engine: MediaEngine;
  let from: number;
  const peers: Trunk[] = [];
  const peer = async () => {
    const t = await startTrunk();
    peers.push(t);
    return t;
  };

  beforeEach(async () => {
    from = 30000 + 2 * Math.floor(Math.random() * 10000);
    engine = await createEmbeddedMediaEngine({ bindAddress: '127.0.0.1', portRange: { from, to: from + 3 }, logger: createLogger('silent') });
  });

  afterEach(async () => {
    await Promise.all(peers.splice(0).map((p) => p.close()));
    await engine.close();
  });

  it('latches to where the answerer really sends from, and relays RTCP on port+1', async () => {
    const [a, bSdp, bReal, bRtcp] = [await peer(), await peer(), await peer(), await peer()];
    const offer = await engine.offer({ callId: 'r1', fromTag: 'a', sdp: sdp(a.port), toProfile: 'rtp' });
    const bSide = sdpTransform.parse(offer.sdp).media[0]!.port;
    const answer = await engine.answer({ callId: 'r1', fromTag: 'a', toTag: 'b', sdp: sdp(bSdp.port, [`a=rtcp:${bRtcp.port}`]) });
    const aSide = sdpTransform.parse(answer.sdp).media[0]!.port;

    a.socket.send(rtpPacket(1, frame(1)).serialize(), aSide, '127.0.0.1');
    await until(() => bSdp.rtp.length === 1, 2000, 'first packet at the SDP address of b');
    // b's packets come from another port (NAT-like): the engine must follow them (RFC 4961)
    bReal.socket.send(rtpPacket(1, frame(2), 0xb).serialize(), bSide, '127.0.0.1');
    await until(() => a.rtp.length === 1, 2000, 'b → a');
    a.socket.send(rtpPacket(2, frame(3)).serialize(), aSide, '127.0.0.1');
    await until(() => bReal.rtp.length === 1, 2000, 'a → latched b');
    expect(payloadOf(bReal.rtp[0]!).readUInt32BE(0)).toBe(3);
    expect(bSdp.rtp).toHaveLength(1);

    const rtcp = Buffer.from([0x81, 201, 0, 7, 0, 0, 0, 0xa, ...Buffer.alloc(24, 5)]);
    a.socket.send(rtcp, aSide + 1, '127.0.0.1');
    await until(() => bRtcp.rtp.length === 1, 2000, 'RTCP at b\'s a=rtcp port');
    expect(bRtcp.rtp[0]).toEqual(rtcp);
    expect(engine.stats('r1')!.legs).toMatchObject({
      a: { packetsIn: 3, packetsOut: 1 },
      b: { packetsIn: 1, packetsOut: 3 },
    });
  });

  it('runs out of ports with no-ports and leaks nothing', async () => {
    const a = await peer();
    await engine.offer({ callId: 'p1', fromTag: 'a', sdp: sdp(a.port), toProfile: 'rtp' });
    await expect(engine.offer({ callId: 'p2', fromTag: 'a', sdp: sdp(a.port), toProfile: 'rtp' })).rejects.toMatchObject({ code: 'no-ports' });
    await engine.delete('p1');
    for (let p = from; p <= from + 3; p++) expect(await bindsFree(p)).toBe(true);
    await engine.offer({ callId: 'p3', fromTag: 'a', sdp: sdp(a.port), toProfile: 'rtp' });
  });
});
