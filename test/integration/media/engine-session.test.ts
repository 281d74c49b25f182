// Session modification on a running call (RFC 3264 §8) through the embedded engine, with plain UDP
// sockets playing a phone (127.0.0.1) and a carrier (127.0.0.20): hold and resume from either side
// with media counted at both ends, a new carrier address answered locally and re-latched, a rejected
// re-offer rolled back, an unchanged refresh answered identically, and every socket freed on delete.
// Loopback-only namespace, see engine-relay.test.ts.
import net from 'node:net';
import * as sdpTransform from 'sdp-transform';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../gateway/log.js';
import { createEmbeddedMediaEngine, MediaError, needsOtherSide } from '../../../gateway/media/index.js';
import { bindsFree, countFrames, frame, payloadOf, rtpPacket, startTrunk, until, type Trunk } from './peers.js';
import { startMediaRig, type MediaRig } from './rig.js';

const CARRIER = '127.0.0.20';

function sdpOf(who: string, address: string, port: number, { dir = 'sendrecv', version = 1, pts = '0 8' } = {}): string {
  return ['v=0', `o=${who} 7 ${version} IN IP4 ${address}`, 's=-', `c=IN IP4 ${address}`, 't=0 0', `m=audio ${port} RTP/AVP ${pts}`, 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000', `a=${dir}`, ''].join('\r\n');
}
const codecsOf = (sdp: string) => String(sdpTransform.parse(sdp).media[0]!.payloads);

const portOf = (sdp: string) => sdpTransform.parse(sdp).media[0]!.port;
const directionOf = (sdp: string) => sdpTransform.parse(sdp).media[0]!.direction;

describe('embedded media engine: session modification on an established call', () => {
  let rig: MediaRig;
  let phone: Trunk;
  let carrier: Trunk;
  /** The engine's ports facing the phone and the carrier. */
  let phoneSide: number;
  let carrierSide: number;
  let seq = 0;

  beforeEach(async () => {
    rig = await startMediaRig(20);
    phone = await startTrunk();
    carrier = await startTrunk(CARRIER);
    const offer = await rig.engine.offer({ callId: 'c', fromTag: 'phone', sdp: sdpOf('phone', '127.0.0.1', phone.port), toProfile: 'rtp', peerAddress: '127.0.0.1' });
    carrierSide = portOf(offer.sdp);
    const answer = await rig.engine.answer({ callId: 'c', fromTag: 'phone', toTag: 'carrier', sdp: sdpOf('carrier', CARRIER, carrier.port, { pts: '0' }), peerAddress: CARRIER });
    phoneSide = portOf(answer.sdp);
  });

  afterEach(async () => {
    await phone.close();
    await carrier.close();
    await rig.close();
  });

  /** `count` frames from each end (phone frames first…, carrier frames first+5000…), paced. */
  async function talk(first: number, count = 50, from: Trunk[] = [phone, carrier]): Promise<void> {
    for (let n = 0; n < count; n++, seq++) {
      if (from.includes(phone)) phone.socket.send(rtpPacket(seq, frame(first + n), 0x11).serialize(), phoneSide, '127.0.0.1');
      if (from.includes(carrier)) carrier.socket.send(rtpPacket(seq, frame(first + 5000 + n), 0x22).serialize(), carrierSide, '127.0.0.1');
      await new Promise((r) => setTimeout(r, 2));
    }
  }
  const atCarrier = (first: number, count = 50) => countFrames(carrier.rtp.map(payloadOf), first, count);
  const atPhone = (first: number, count = 50) => countFrames(phone.rtp.map(payloadOf), first + 5000, count);
  const legs = () => rig.engine.stats('c')!.legs;

  /** Media flows both ways (≥ 45 of 50 frames at each end). */
  async function bothWays(first: number): Promise<void> {
    await talk(first);
    await until(() => atCarrier(first) >= 45 && atPhone(first) >= 45, 5000, `frames ${first}… at both ends`);
  }

  it('hold from the carrier (the answerer) and resume: media stops toward the carrier and resumes, counted at both ends', async () => {
    await bothWays(0);
    // carrier re-INVITEs sendonly; the phone gets sendonly from us and answers recvonly
    const toPhone = await rig.engine.offer({ callId: 'c', fromTag: 'carrier', sdp: sdpOf('carrier', CARRIER, carrier.port, { dir: 'sendonly', version: 2 }), toProfile: 'rtp' });
    expect(directionOf(toPhone.sdp)).toBe('sendonly');
    expect(portOf(toPhone.sdp)).toBe(phoneSide);
    const toCarrier = await rig.engine.answer({ callId: 'c', fromTag: 'carrier', toTag: 'phone', sdp: sdpOf('phone', '127.0.0.1', phone.port, { dir: 'recvonly', version: 2 }) });
    expect(directionOf(toCarrier.sdp)).toBe('recvonly');
    expect(portOf(toCarrier.sdp)).toBe(carrierSide);

    const heldBefore = legs().phone!.packetsHeld!;
    await talk(1000); // the held phone sends anyway: nothing of it may reach the carrier
    await until(() => atPhone(1000) >= 45, 5000, 'the carrier\'s music on hold at the phone');
    await until(() => legs().phone!.packetsHeld! - heldBefore === 50, 5000, 'all 50 phone packets held');
    expect(atCarrier(1000)).toBe(0);

    // resume
    await rig.engine.offer({ callId: 'c', fromTag: 'carrier', sdp: sdpOf('carrier', CARRIER, carrier.port, { version: 3 }), toProfile: 'rtp' });
    const resumed = await rig.engine.answer({ callId: 'c', fromTag: 'carrier', toTag: 'phone', sdp: sdpOf('phone', '127.0.0.1', phone.port, { version: 3 }) });
    expect(directionOf(resumed.sdp)).toBe('sendrecv');
    await bothWays(2000);
    expect(legs().phone!.packetsHeld).toBe(heldBefore + 50);
  });

  it('RFC 2543 hold from the phone (c=0.0.0.0): the carrier is offered sendonly and nothing is sent to the phone', async () => {
    await bothWays(0);
    const toCarrier = await rig.engine.offer({ callId: 'c', fromTag: 'phone', sdp: sdpOf('phone', '0.0.0.0', phone.port, { version: 2 }), toProfile: 'rtp' });
    expect(directionOf(toCarrier.sdp)).toBe('sendonly');
    await rig.engine.answer({ callId: 'c', fromTag: 'phone', toTag: 'carrier', sdp: sdpOf('carrier', CARRIER, carrier.port, { dir: 'recvonly', version: 2 }) });
    const phoneGot = phone.rtp.length;
    await talk(1000);
    await until(() => atCarrier(1000) >= 45, 5000, 'the phone\'s frames at the carrier');
    await until(() => legs().carrier!.packetsHeld === 50, 5000, 'all 50 carrier packets held');
    expect(phone.rtp.length).toBe(phoneGot);
  });

  it('a rejected re-offer is rolled back: directions and media as before; its answer can no longer arrive', async () => {
    await bothWays(0);
    await rig.engine.offer({ callId: 'c', fromTag: 'carrier', sdp: sdpOf('carrier', CARRIER, carrier.port, { dir: 'inactive', version: 2 }), toProfile: 'rtp' });
    await bothWays(1000); // outstanding: nothing changed yet
    await rig.engine.rollback({ callId: 'c', fromTag: 'carrier' });
    await bothWays(2000);
    expect(legs().phone!.packetsHeld).toBe(0);
    expect(legs().carrier!.packetsHeld).toBe(0);
    await expect(rig.engine.answer({ callId: 'c', fromTag: 'carrier', toTag: 'phone', sdp: sdpOf('phone', '127.0.0.1', phone.port, { dir: 'inactive', version: 2 }) })).rejects.toMatchObject({ code: 'unknown-call' });
    await rig.engine.rollback({ callId: 'c', fromTag: 'carrier' }); // idempotent
  });

  it('a new carrier address is answered locally and re-latched (strict source); before, that address is refused', async () => {
    await bothWays(0);
    const moved = await startTrunk('127.0.0.21');
    try {
      moved.socket.send(rtpPacket(900, frame(900), 0x33).serialize(), carrierSide, '127.0.0.1');
      await until(() => legs().carrier!.packetsRejected === 1, 5000, 'the unknown address refused');
      const newOffer = sdpOf('carrier', '127.0.0.21', moved.port, { version: 2 });
      const answer = await rig.engine.answerLocally({ callId: 'c', fromTag: 'carrier', sdp: newOffer, peerAddress: CARRIER });
      expect(portOf(answer.sdp)).toBe(carrierSide);
      expect(directionOf(answer.sdp)).toBe('sendrecv');
      for (let n = 0; n < 50; n++, seq++) {
        moved.socket.send(rtpPacket(seq, frame(6000 + n), 0x33).serialize(), carrierSide, '127.0.0.1');
        phone.socket.send(rtpPacket(seq, frame(3000 + n), 0x11).serialize(), phoneSide, '127.0.0.1');
        await new Promise((r) => setTimeout(r, 2));
      }
      await until(() => countFrames(phone.rtp.map(payloadOf), 6000, 50) >= 45, 5000, 'the moved carrier at the phone');
      await until(() => countFrames(moved.rtp.map(payloadOf), 3000, 50) >= 45, 5000, 'the phone at the moved carrier');
      // the same offer again (unchanged o= version): the very same answer (RFC 3264 §8)
      expect((await rig.engine.answerLocally({ callId: 'c', fromTag: 'carrier', sdp: newOffer, peerAddress: CARRIER })).sdp).toBe(answer.sdp);
      // a hold cannot be answered locally: the phone must hear of it
      const hold = rig.engine.answerLocally({ callId: 'c', fromTag: 'carrier', sdp: sdpOf('carrier', '127.0.0.21', moved.port, { dir: 'sendonly', version: 3 }) });
      await expect(hold).rejects.toBeInstanceOf(MediaError);
      await expect(hold).rejects.toThrow(/direction/);
    } finally {
      await moved.close();
    }
  });

  it('codec change within the offered set (RFC 3264 §8.3.2): the phone prefers PCMA, the carrier answers PCMA, media flows', async () => {
    expect(needsOtherSide(sdpOf('phone', '127.0.0.1', phone.port), sdpOf('phone', '127.0.0.1', phone.port, { pts: '8 0', version: 2 }))).toBe('codecs');
    const toCarrier = await rig.engine.offer({ callId: 'c', fromTag: 'phone', sdp: sdpOf('phone', '127.0.0.1', phone.port, { pts: '8 0', version: 2 }), toProfile: 'rtp', peerAddress: '127.0.0.1' });
    expect(codecsOf(toCarrier.sdp)).toBe('8 0');
    expect(portOf(toCarrier.sdp)).toBe(carrierSide);
    const toPhone = await rig.engine.answer({ callId: 'c', fromTag: 'phone', toTag: 'carrier', sdp: sdpOf('carrier', CARRIER, carrier.port, { pts: '8', version: 2 }), peerAddress: CARRIER });
    expect(codecsOf(toPhone.sdp)).toBe('8');
    expect(portOf(toPhone.sdp)).toBe(phoneSide);
    await bothWays(0);
  });

  it('inactivity: a silent carrier is reported while the phone talks; on hold only a leg whose RTCP stopped is', async () => {
    const from = rig.range.to + 1 > 65000 ? 20000 : rig.range.to + 1;
    const watched = await createEmbeddedMediaEngine({ bindAddress: '127.0.0.1', portRange: { from, to: from + 9 }, logger: createLogger('silent'), inactivityTimeoutMs: 400 });
    const reports: string[] = [];
    watched.onInactive((callId, leg, reason) => reports.push(`${callId} ${leg} ${reason}`));
    try {
      const offer = await watched.offer({ callId: 'i', fromTag: 'phone', sdp: sdpOf('phone', '127.0.0.1', phone.port), toProfile: 'rtp', peerAddress: '127.0.0.1' });
      const answer = await watched.answer({ callId: 'i', fromTag: 'phone', toTag: 'carrier', sdp: sdpOf('carrier', CARRIER, carrier.port, { pts: '0' }), peerAddress: CARRIER });
      let n = 0;
      const talk = setInterval(() => phone.socket.send(rtpPacket(n++, frame(n), 0x11).serialize(), portOf(answer.sdp), '127.0.0.1'), 20);
      try {
        await until(() => reports.length > 0, 5000, 'the silent carrier reported');
        expect(reports).toEqual(['i carrier no-rtp-rtcp']);
      } finally {
        clearInterval(talk);
      }
      // hold: the phone sends one RTCP report and then nothing; the carrier never sent RTCP. Only the
      // phone is reported (its RTCP stopped); the carrier, as silent all along, is not (on hold it
      // sends nothing by design and has no RTCP to miss)
      await watched.offer({ callId: 'i', fromTag: 'carrier', sdp: sdpOf('carrier', CARRIER, carrier.port, { pts: '0', dir: 'sendonly', version: 2 }), toProfile: 'rtp' });
      await watched.answer({ callId: 'i', fromTag: 'carrier', toTag: 'phone', sdp: sdpOf('phone', '127.0.0.1', phone.port, { pts: '0', dir: 'recvonly', version: 2 }) });
      phone.socket.send(Buffer.from([0x81, 201, 0, 7, 0, 0, 0, 0x11, ...Buffer.alloc(24, 3)]), portOf(answer.sdp) + 1, '127.0.0.1');
      await until(() => reports.length === 2, 5000, 'the phone reported once its RTCP stopped');
      expect(reports).toEqual(['i carrier no-rtp-rtcp', 'i phone no-rtcp-on-hold']);
      expect(portOf(offer.sdp)).not.toBe(portOf(answer.sdp));
    } finally {
      await watched.close();
    }
  });

  it('openSockets(): a browser leg (UDP, ICE-TCP listener and a connection) and a trunk leg are counted, and delete() frees them all', async () => {
    await rig.engine.delete('c');
    expect(rig.engine.openSockets()).toEqual({ udp: 0, tcpListeners: 0, tcpConnections: 0 });
    const peer = rig.peer();
    await peer.pc.setLocalDescription(await peer.pc.createOffer());
    const toTrunk = await rig.engine.offer({ callId: 'b', fromTag: 'browser', sdp: peer.pc.localDescription!.sdp, toProfile: 'rtp' });
    const toBrowser = await rig.engine.answer({ callId: 'b', fromTag: 'browser', toTag: 'trunk', sdp: sdpOf('carrier', CARRIER, carrier.port) });
    const browserPort = portOf(toBrowser.sdp);
    const client = net.connect(browserPort, '127.0.0.1');
    client.on('error', () => undefined);
    await until(() => rig.engine.openSockets().tcpConnections === 1, 5000, 'the ICE-TCP connection accepted');
    expect(rig.engine.openSockets()).toEqual({ udp: 3, tcpListeners: 1, tcpConnections: 1 });
    await rig.engine.delete('b');
    expect(rig.engine.openSockets()).toEqual({ udp: 0, tcpListeners: 0, tcpConnections: 0 });
    expect(await bindsFree(browserPort)).toBe(true);
    expect(await bindsFree(portOf(toTrunk.sdp))).toBe(true);
    client.destroy();
  });
});
