// Inbound call: the trunk offers plain RTP, the engine offers WebRTC to the (werift) browser, whose
// answer makes the trunk's answer. Loopback-only namespace, see engine-relay.test.ts.
import * as sdpTransform from 'sdp-transform';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MediaEngine } from '../../../gateway/media/types.js';
import { frame, loopbackPeer, payloadOf, rtpPacket, until, waitConnected, type Trunk } from './peers.js';
import { startMediaRig, type MediaRig } from './rig.js';

function trunkOffer(port: number): string {
  return [
    'v=0', 'o=trunk 7 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0',
    `m=audio ${port} RTP/AVP 0 8 101`, 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16', 'a=ptime:20', 'a=sendrecv', '',
  ].join('\r\n');
}

describe('embedded media engine: inbound call (trunk offers, browser answers)', () => {
  let engine: MediaEngine;
  let peer: ReturnType<typeof loopbackPeer>;
  let trunk: Trunk;
  let rig: MediaRig;

  beforeEach(async () => {
    rig = await startMediaRig(20);
    ({ engine, trunk } = rig);
    peer = rig.peer();
  });

  afterEach(() => rig.close());

  it('offers actpass WebRTC to the browser and relays both ways once it answers', async () => {
    const toBrowser = await engine.offer({ callId: 'in1', fromTag: 'trunk', sdp: trunkOffer(trunk.port), toProfile: 'webrtc' });
    const offered = sdpTransform.parse(toBrowser.sdp);
    expect(offered.icelite).toBe('ice-lite');
    expect(offered.media[0]!.setup).toBe('actpass');

    await peer.pc.setRemoteDescription({ type: 'offer', sdp: toBrowser.sdp });
    await peer.pc.setLocalDescription(await peer.pc.createAnswer());
    const toTrunk = await engine.answer({ callId: 'in1', fromTag: 'trunk', toTag: 'browser', sdp: peer.pc.localDescription!.sdp });
    const trunkSide = sdpTransform.parse(toTrunk.sdp).media[0]!;
    expect(trunkSide.protocol).toBe('RTP/AVP');
    expect(String(trunkSide.payloads)).toBe('0');
    await waitConnected(peer.pc);

    for (let n = 0; n < 100; n++) {
      trunk.socket.send(rtpPacket(n, frame(n), 0xfeed).serialize(), trunkSide.port, '127.0.0.1');
      await new Promise((r) => setTimeout(r, 2));
    }
    await until(() => peer.received.length >= 100, 5000, '100 packets at the browser');
    expect(peer.received.slice(0, 100).map((p) => p.payload.readUInt32BE(0))).toEqual(Array.from({ length: 100 }, (_, i) => i));

    for (let n = 0; n < 100; n++) {
      peer.track.writeRtp(rtpPacket(n, frame(500 + n)));
      await new Promise((r) => setTimeout(r, 2));
    }
    await until(() => trunk.rtp.length >= 100, 5000, '100 packets at the trunk');
    expect(trunk.rtp.slice(0, 100).map((p) => payloadOf(p).readUInt32BE(0))).toEqual(Array.from({ length: 100 }, (_, i) => 500 + i));
  });
});
