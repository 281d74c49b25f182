// RTP Bleed on loopback: distinct 127.0.0.x addresses stand for hosts. The carrier is 127.0.0.20, a
// rogue host 127.0.0.66 sprays RTP and RTCP carrying "ROGUE" at the call's ports before and during the
// call. With media.strictSource (the default) none of it reaches the browser or the carrier and the
// call's audio carries on; with strictSource false the rogue takes the trunk side over (the old
// behaviour, shown so this test can tell the two apart).
// Loopback-only namespace, see engine-relay.test.ts.
import * as sdpTransform from 'sdp-transform';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../gateway/log.js';
import { createEmbeddedMediaEngine } from '../../../gateway/media/index.js';
import type { MediaEngine } from '../../../gateway/media/types.js';
import { frame, offerOf, payloadOf, rtpPacket, startTrunk, until, waitConnected, type Trunk } from './peers.js';
import { startMediaRig, type MediaRig, type Peer } from './rig.js';

const CARRIER = '127.0.0.20';
const ROGUE = '127.0.0.66';
const MARKER = Buffer.from('ROGUE');
const G711 = ['PCMU', 'PCMA', 'telephone-event'];

/** A PCMU-sized payload made of the marker, so any leak is recognisable wherever it lands. */
const roguePayload = Buffer.concat(Array.from({ length: 32 }, () => MARKER));
const rogueRtp = (seq: number) => rtpPacket(seq, roguePayload, 0xbadbad).serialize();
const rogueRtcp = Buffer.concat([Buffer.from([0x80, 200, 0, 6, 0, 0xba, 0xdb, 0xad]), Buffer.alloc(20), roguePayload]);
const hasMarker = (b: Buffer) => b.includes(MARKER);

function answerFrom(address: string, port: number): string {
  return ['v=0', `o=carrier 1 1 IN IP4 ${address}`, 's=-', `c=IN IP4 ${address}`, 't=0 0', `m=audio ${port} RTP/AVP 0`, 'a=rtpmap:0 PCMU/8000', `a=rtcp:${port}`, 'a=sendrecv', ''].join('\r\n');
}

function offerFrom(address: string, port: number): string {
  return answerFrom(address, port).replace('o=carrier', 'o=phone');
}

const pace = () => new Promise((r) => setTimeout(r, 2));

describe('strict media sources: a rogue host cannot bleed into a call', () => {
  let rig: MediaRig;
  let engine: MediaEngine;
  let peer: Peer;
  let carrier: Trunk;
  let rogue: Trunk;

  beforeEach(async () => {
    rig = await startMediaRig(40);
    engine = rig.engine;
    peer = rig.peer();
    carrier = await startTrunk(CARRIER);
    rogue = await startTrunk(ROGUE);
  });

  afterEach(async () => {
    await carrier.close();
    await rogue.close();
    await rig.close();
  });

  it('browser ⇄ carrier: rogue RTP/RTCP to the trunk-side ports and the browser port is dropped and counted; audio flows', async () => {
    const toCarrier = await engine.offer({ callId: 'b1', fromTag: 'browser', sdp: await offerOf(peer.pc), toProfile: 'rtp', codecs: G711, peerAddress: '127.0.0.1' });
    const trunkPort = sdpTransform.parse(toCarrier.sdp).media[0]!.port;
    let toTrunkSide = 0;
    let toBrowserSide = 0;
    const sprayTrunkSide = () => {
      rogue.socket.send(rogueRtp(toTrunkSide), trunkPort, '127.0.0.1');
      rogue.socket.send(rogueRtcp, trunkPort + 1, '127.0.0.1');
      toTrunkSide += 2;
    };
    for (let i = 0; i < 10; i++) sprayTrunkSide(); // before the carrier answered

    const toBrowser = await engine.answer({ callId: 'b1', fromTag: 'browser', toTag: 'carrier', sdp: answerFrom(CARRIER, carrier.port), peerAddress: CARRIER });
    const browserPort = sdpTransform.parse(toBrowser.sdp).media[0]!.port;
    await peer.pc.setRemoteDescription({ type: 'answer', sdp: toBrowser.sdp });
    await waitConnected(peer.pc);
    for (let i = 0; i < 10; i++) sprayTrunkSide(); // answered, before the carrier's first packet

    const carrierRtcp = Buffer.from([0x81, 201, 0, 7, 0, 0, 0, 0x20, ...Buffer.alloc(24, 3)]);
    for (let n = 0; n < 120; n++) {
      carrier.socket.send(rtpPacket(n, frame(1000 + n), 0xca).serialize(), trunkPort, '127.0.0.1');
      if (n % 20 === 0) carrier.socket.send(carrierRtcp, trunkPort + 1, '127.0.0.1');
      peer.track.writeRtp(rtpPacket(n, frame(n)));
      sprayTrunkSide();
      rogue.socket.send(rogueRtp(n), browserPort, '127.0.0.1'); // plaintext RTP at the ICE/SRTP leg
      toBrowserSide++;
      await pace();
    }

    const legs = () => engine.stats('b1')!.legs;
    await until(() => legs().carrier!.packetsRejected === toTrunkSide, 5000, `all ${toTrunkSide} rogue packets rejected on the trunk side`);
    await until(() => legs().browser!.packetsRejected === toBrowserSide, 5000, `all ${toBrowserSide} rogue packets rejected on the browser side`);
    await until(() => peer.received.length >= 100, 5000, '100 carrier packets at the browser');
    await until(() => carrier.rtp.length >= 100, 5000, '100 browser packets at the carrier');

    // The carrier's packets were the only ones taken in on the trunk side, and only they reached the browser.
    expect(legs().carrier).toMatchObject({ packetsIn: 120 + 6, packetsRejected: toTrunkSide });
    expect(peer.received.some((p) => hasMarker(p.payload))).toBe(false);
    expect(peer.received.every((p) => p.payload.readUInt32BE(0) >= 1000)).toBe(true);
    // Nothing the rogue sent at the browser's port reached the carrier.
    expect(carrier.rtp.some(hasMarker)).toBe(false);
    expect(rogue.rtp).toHaveLength(0); // and the engine never sent the rogue anything
  });

  it('strictSource false: the rogue takes the trunk side over (why the default is strict)', async () => {
    const from = 30000 + 2 * Math.floor(Math.random() * 10000);
    const loose = await createEmbeddedMediaEngine({ bindAddress: '127.0.0.1', portRange: { from, to: from + 3 }, logger: createLogger('silent'), strictSource: false });
    const phone = await startTrunk();
    try {
      const offer = await loose.offer({ callId: 'l1', fromTag: 'phone', sdp: offerFrom('127.0.0.1', phone.port), toProfile: 'rtp', peerAddress: '127.0.0.1' });
      const carrierSide = sdpTransform.parse(offer.sdp).media[0]!.port;
      const answer = await loose.answer({ callId: 'l1', fromTag: 'phone', toTag: 'carrier', sdp: answerFrom(CARRIER, carrier.port), peerAddress: CARRIER });
      const phoneSide = sdpTransform.parse(answer.sdp).media[0]!.port;

      carrier.socket.send(rtpPacket(1, frame(1)).serialize(), carrierSide, '127.0.0.1');
      await until(() => phone.rtp.length === 1, 2000, 'the carrier\'s packet at the phone');
      rogue.socket.send(rogueRtp(2), carrierSide, '127.0.0.1');
      await until(() => phone.rtp.some(hasMarker), 2000, 'the rogue\'s packet at the phone');
      phone.socket.send(rtpPacket(1, frame(7)).serialize(), phoneSide, '127.0.0.1');
      await until(() => rogue.rtp.length === 1, 2000, 'the phone\'s audio at the rogue (latched)');
      expect(payloadOf(rogue.rtp[0]!).readUInt32BE(0)).toBe(7);
      expect(loose.stats('l1')!.legs.carrier!.packetsRejected).toBe(0);
    } finally {
      await phone.close();
      await loose.close();
    }
  });

  it('rtp ⇄ rtp with strictSource (default): the same rogue packet is dropped, the phone never hears it', async () => {
    const phone = await startTrunk();
    const offer = await engine.offer({ callId: 's1', fromTag: 'phone', sdp: offerFrom('127.0.0.1', phone.port), toProfile: 'rtp', peerAddress: '127.0.0.1' });
    const carrierSide = sdpTransform.parse(offer.sdp).media[0]!.port;
    const answer = await engine.answer({ callId: 's1', fromTag: 'phone', toTag: 'carrier', sdp: answerFrom(CARRIER, carrier.port), peerAddress: CARRIER });
    const phoneSide = sdpTransform.parse(answer.sdp).media[0]!.port;
    try {
      carrier.socket.send(rtpPacket(1, frame(1)).serialize(), carrierSide, '127.0.0.1');
      await until(() => phone.rtp.length === 1, 2000, 'the carrier\'s packet at the phone');
      rogue.socket.send(rogueRtp(2), carrierSide, '127.0.0.1');
      await until(() => engine.stats('s1')!.legs.carrier!.packetsRejected === 1, 2000, 'the rogue packet rejected');
      carrier.socket.send(rtpPacket(3, frame(3)).serialize(), carrierSide, '127.0.0.1');
      await until(() => phone.rtp.length === 2, 2000, 'the carrier\'s second packet at the phone');
      phone.socket.send(rtpPacket(1, frame(7)).serialize(), phoneSide, '127.0.0.1');
      await until(() => carrier.rtp.length === 1, 2000, 'the phone\'s audio at the carrier');
      expect(phone.rtp.some(hasMarker)).toBe(false);
      expect(rogue.rtp).toHaveLength(0);
    } finally {
      await phone.close();
    }
  });
});
