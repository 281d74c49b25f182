// The embedded media engine between a werift "browser" (ICE + DTLS-SRTP) and a plain UDP "trunk".
// Run inside a loopback-only namespace:
//   unshare -n sh -c 'ip link set lo up && npx vitest run --project integration test/integration/media'
import * as sdpTransform from 'sdp-transform';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MediaEngine } from '../../../gateway/media/types.js';
import { bindsFree, frame, loopbackPeer, offerOf, payloadOf, rtpPacket, until, waitConnected, type Trunk } from './peers.js';
import { startMediaRig, type MediaRig } from './rig.js';

const G711 = ['PCMU', 'PCMA', 'telephone-event'];

function trunkAnswer(port: number): string {
  return ['v=0', 'o=trunk 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${port} RTP/AVP 0`, 'a=rtpmap:0 PCMU/8000', 'a=ptime:20', 'a=sendrecv', ''].join('\r\n');
}

describe('embedded media engine: browser ⇄ trunk relay', () => {
  let engine: MediaEngine;
  let peer: ReturnType<typeof loopbackPeer>;
  let trunk: Trunk;
  let rig: MediaRig;

  beforeEach(async () => {
    rig = await startMediaRig(40);
    ({ engine, trunk } = rig);
    peer = rig.peer();
  });

  afterEach(() => rig.close());

  it('relays audio both ways with payloads unchanged, then delete() frees the ports', async () => {
    const toTrunk = await engine.offer({ callId: 'c1', fromTag: 'browser', sdp: await offerOf(peer.pc), toProfile: 'rtp', codecs: G711 });
    const trunkSide = sdpTransform.parse(toTrunk.sdp).media[0]!;
    expect(trunkSide.protocol).toBe('RTP/AVP');
    expect(trunkSide.port % 2).toBe(0);

    const toBrowser = await engine.answer({ callId: 'c1', fromTag: 'browser', toTag: 'trunk', sdp: trunkAnswer(trunk.port) });
    const browserPort = sdpTransform.parse(toBrowser.sdp).media[0]!.port;
    await peer.pc.setRemoteDescription({ type: 'answer', sdp: toBrowser.sdp });
    await waitConnected(peer.pc);

    // browser → trunk: SRTP in, plain RTP out, identical payloads
    const sent = new Set<string>();
    for (let n = 0; n < 150; n++) {
      const payload = frame(n);
      sent.add(payload.toString('hex'));
      peer.track.writeRtp(rtpPacket(n, payload));
      await new Promise((r) => setTimeout(r, 2));
    }
    await until(() => trunk.rtp.length >= 100, 5000, '100 RTP packets at the trunk');
    const identical = trunk.rtp.filter((p) => sent.has(payloadOf(p).toString('hex')));
    expect(identical.length).toBeGreaterThanOrEqual(100);
    expect(trunk.rtp.every((p) => (p[1]! & 0x7f) === 0)).toBe(true);

    // trunk → browser: plain RTP in, SRTP out
    for (let n = 0; n < 100; n++) {
      trunk.socket.send(rtpPacket(n, frame(1000 + n), 0x5eed).serialize(), trunkSide.port, '127.0.0.1');
      await new Promise((r) => setTimeout(r, 2));
    }
    await until(() => peer.received.length >= 100, 5000, '100 RTP packets at the browser');
    expect(peer.received.slice(0, 100).map((p) => p.payload.readUInt32BE(0))).toEqual(Array.from({ length: 100 }, (_, i) => 1000 + i));

    const stats = engine.stats('c1')!;
    expect(stats.legs.browser!.packetsIn).toBeGreaterThanOrEqual(100);
    expect(stats.legs.trunk!.packetsIn).toBe(100);
    expect(stats.legs.browser!.packetsOut).toBe(100);

    await engine.delete('c1');
    await engine.delete('c1'); // idempotent
    expect(engine.stats('c1')).toBeUndefined();
    expect(await bindsFree(browserPort)).toBe(true);
    expect(await bindsFree(trunkSide.port)).toBe(true);
    expect(await bindsFree(trunkSide.port + 1)).toBe(true);
  });

  it('a re-offer (hold) keeps ports, ICE and DTLS: media still flows afterwards', async () => {
    const toTrunk = await engine.offer({ callId: 'c2', fromTag: 'browser', sdp: await offerOf(peer.pc), toProfile: 'rtp', codecs: G711 });
    const trunkPort = sdpTransform.parse(toTrunk.sdp).media[0]!.port;
    const first = await engine.answer({ callId: 'c2', fromTag: 'browser', toTag: 'trunk', sdp: trunkAnswer(trunk.port) });
    await peer.pc.setRemoteDescription({ type: 'answer', sdp: first.sdp });
    await waitConnected(peer.pc);

    peer.pc.getTransceivers()[0]!.setDirection('sendonly');
    const reoffer = await engine.offer({ callId: 'c2', fromTag: 'browser', sdp: await offerOf(peer.pc), toProfile: 'rtp', codecs: G711 });
    const held = sdpTransform.parse(reoffer.sdp).media[0]!;
    expect(held.port).toBe(trunkPort);
    expect(held.direction).toBe('sendonly');
    const second = await engine.answer({
      callId: 'c2',
      fromTag: 'browser',
      toTag: 'trunk',
      sdp: trunkAnswer(trunk.port).replace('a=sendrecv', 'a=recvonly'),
    });
    const [a1, a2] = [sdpTransform.parse(first.sdp), sdpTransform.parse(second.sdp)];
    expect(a2.media[0]!.port).toBe(a1.media[0]!.port);
    expect(a2.media[0]!.iceUfrag).toBe(a1.media[0]!.iceUfrag);
    expect(a2.media[0]!.setup).toBe('passive');
    expect(a2.media[0]!.direction).toBe('recvonly');
    expect(a2.origin.sessionId).toBe(a1.origin.sessionId);
    expect(a2.origin.sessionVersion).toBe(a1.origin.sessionVersion + 1);
    await peer.pc.setRemoteDescription({ type: 'answer', sdp: second.sdp });

    for (let n = 0; n < 120; n++) {
      peer.track.writeRtp(rtpPacket(n, frame(n)));
      await new Promise((r) => setTimeout(r, 2));
    }
    await until(() => trunk.rtp.length >= 100, 5000, '100 RTP packets at the trunk after the re-offer');
  });

  it('echo: the browser gets its own payloads back under another SSRC', async () => {
    const answer = await engine.echo({ callId: 'e1', fromTag: 'browser', sdp: await offerOf(peer.pc), codecs: G711 });
    expect(answer.sdp).toContain('a=ice-lite');
    await peer.pc.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
    await waitConnected(peer.pc);

    const sent: string[] = [];
    for (let n = 0; n < 120; n++) {
      sent.push(frame(n).toString('hex'));
      peer.track.writeRtp(rtpPacket(n, frame(n)));
      await new Promise((r) => setTimeout(r, 2));
    }
    await until(() => peer.received.length >= 100, 5000, '100 echoed packets');
    const back = new Set(peer.received.map((p) => p.payload.toString('hex')));
    expect(sent.filter((h) => back.has(h)).length).toBeGreaterThanOrEqual(100);
    const ownSsrc = peer.pc.getTransceivers()[0]!.sender.ssrc;
    expect(peer.received.every((p) => p.header.ssrc !== ownSsrc)).toBe(true);
  });

  it('an unknown call is unknown-call, a bad SDP is bad-sdp', async () => {
    await expect(engine.answer({ callId: 'nope', fromTag: 'a', toTag: 'b', sdp: trunkAnswer(4000) })).rejects.toMatchObject({ code: 'unknown-call' });
    await expect(engine.offer({ callId: 'x', fromTag: 'a', sdp: 'garbage', toProfile: 'rtp' })).rejects.toMatchObject({ code: 'bad-sdp' });
  });
});
