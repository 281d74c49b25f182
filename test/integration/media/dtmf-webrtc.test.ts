// RFC 4733 events injected toward a browser leg (embedded engine): a werift peer plays the browser (ICE +
// DTLS-SRTP, PCMU + telephone-event 101), a UDP socket the trunk (PCMU + telephone-event 96). Events the
// engine sends toward the browser go through the leg's SSRC restamping and SRTP like the relayed audio:
// the browser decrypts them in its PT 101, in the same stream (SSRC) with SEQ following the audio's. The
// other way, RFC 4733 from the browser is read by watchDtmf (each event once, with its duration) and no
// longer relayed to the trunk.
// Run: unshare -n sh -c 'ip link set lo up && npx vitest run test/integration/media/dtmf-webrtc.test.ts'
import * as sdpTransform from 'sdp-transform';
import { afterEach, describe, expect, it } from 'vitest';
import { RtpHeader, RtpPacket, RTCPeerConnection, RTCRtpCodecParameters, MediaStreamTrack } from 'werift';
import { createLogger } from '../../../gateway/log.js';
import { decodeEvent, decodeEventPacket, encodeEvent } from '../../../gateway/media/dtmf/rfc4733.js';
import type { ReceivedDtmf } from '../../../gateway/media/dtmf/types.js';
import { createEmbeddedMediaEngine, type EmbeddedMediaEngine } from '../../../gateway/media/index.js';
import { frame, loopbackPeer, offerOf, rtpPacket, startStunRefuser, startTrunk, until, waitConnected, type Trunk } from './peers.js';

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c().catch(() => undefined);
});

function trunkAnswer(port: number): string {
  return ['v=0', 'o=trunk 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${port} RTP/AVP 0 96`, 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:96 telephone-event/8000', 'a=fmtp:96 0-15', 'a=ptime:20', 'a=sendrecv', ''].join('\r\n');
}

async function rig(): Promise<{ engine: EmbeddedMediaEngine; trunk: Trunk; pc: RTCPeerConnection; track: MediaStreamTrack; received: RtpPacket[]; trunkPort: number }> {
  const stun = await startStunRefuser();
  const trunk = await startTrunk();
  const from = 30000 + 2 * Math.floor(Math.random() * 10000);
  const engine = await createEmbeddedMediaEngine({ bindAddress: '127.0.0.1', portRange: { from, to: from + 19 }, logger: createLogger('silent') });
  const { pc, track, received } = loopbackPeer(stun.port, [
    new RTCRtpCodecParameters({ mimeType: 'audio/PCMU', clockRate: 8000, channels: 1, payloadType: 0 }),
    new RTCRtpCodecParameters({ mimeType: 'audio/telephone-event', clockRate: 8000, channels: 1, payloadType: 101 }),
  ]);
  closers.push(() => stun.close(), () => trunk.close(), () => engine.close(), () => pc.close());
  const toTrunk = await engine.offer({ callId: 'd1', fromTag: 'browser', sdp: await offerOf(pc), toProfile: 'rtp', codecs: ['PCMU', 'telephone-event'] });
  const trunkPort = sdpTransform.parse(toTrunk.sdp).media[0]!.port;
  const toBrowser = await engine.answer({ callId: 'd1', fromTag: 'browser', toTag: 'trunk', sdp: trunkAnswer(trunk.port) });
  expect(toBrowser.sdp).toMatch(/a=rtpmap:101 telephone-event\/8000/);
  await pc.setRemoteDescription({ type: 'answer', sdp: toBrowser.sdp });
  await waitConnected(pc);
  return { engine, trunk, pc, track, received, trunkPort };
}

describe('RFC 4733 and a browser leg (SRTP)', () => {
  it('events sent toward the browser arrive decrypted in its PT 101, in the audio stream, SEQ continuing it; toward the trunk in 96', async () => {
    const r = await rig();
    // the trunk's audio toward the browser: the stream the events join
    let n = 0;
    const audio = setInterval(() => r.trunk.socket.send(rtpPacket(n, frame(n++), 0x5eed).serialize(), r.trunkPort, '127.0.0.1'), 20);
    closers.push(async () => clearInterval(audio));
    await until(() => r.received.length >= 10, 5000, 'audio at the browser');
    expect(await r.engine.sendDtmf({ callId: 'd1', toTag: 'browser', signal: '4', durationMs: 100 })).toBe('sent');
    expect(await r.engine.sendDtmf({ callId: 'd1', toTag: 'trunk', signal: '*', durationMs: 60 })).toBe('sent');
    await until(() => r.received.filter((p) => p.header.payloadType === 101).length >= 7, 5000, 'the event at the browser');
    clearInterval(audio);
    const events = r.received.filter((p) => p.header.payloadType === 101);
    const decoded = events.map((p) => decodeEvent(p.payload)!);
    expect(decoded.map((e) => e.event)).toEqual(Array(7).fill(4));
    expect(decoded.map((e) => e.duration)).toEqual([160, 320, 480, 640, 800, 800, 800]);
    expect(decoded.map((e) => e.end)).toEqual([false, false, false, false, true, true, true]);
    expect(new Set(events.map((p) => p.header.timestamp)).size).toBe(1);
    expect(events[0]!.header.marker).toBe(true);
    // one stream: the SSRC the answer announced, SEQ +1 from packet to packet over audio and events alike
    const ssrcs = new Set(r.received.map((p) => p.header.ssrc));
    expect(ssrcs.size).toBe(1);
    expect(toBrowserSsrc(r)).toBe([...ssrcs][0]);
    const seqs = r.received.map((p) => p.header.sequenceNumber);
    expect(seqs.slice(1).filter((s, i) => s !== ((seqs[i]! + 1) & 0xffff))).toEqual([]);
    // toward the trunk: its own numbering (96), three end packets
    const atTrunk = () => r.trunk.rtp.map((p) => decodeEventPacket(p, 96)).filter((e) => e !== undefined);
    await until(() => atTrunk().filter((e) => e.end).length >= 3, 5000, 'the end packets at the trunk');
    expect(atTrunk().filter((e) => e.end).map((e) => [e.event, e.duration])).toEqual([[10, 480], [10, 480], [10, 480]]);
  });

  it('RFC 4733 from the browser is read once per event by watchDtmf and not relayed to the trunk', async () => {
    const r = await rig();
    const got: ReceivedDtmf[] = [];
    const stop = r.engine.watchDtmf({ callId: 'd1', fromTag: 'browser' }, (d) => got.push(d));
    let seq = 1;
    // werift's sender writes its current codec's PT into every packet: switched to telephone-event for events
    const transceiver = r.pc.getTransceivers()[0]!;
    const sender = transceiver.sender as unknown as { codec: unknown; sendRtp(p: RtpPacket): Promise<void> };
    const codecs = { 0: sender.codec, 101: transceiver.codecs.find((c) => /telephone-event/i.test(c.mimeType)) };
    const send = (pt: 0 | 101, payload: Buffer, ts: number, marker = false) => {
      sender.codec = codecs[pt];
      void sender.sendRtp(new RtpPacket(new RtpHeader({ payloadType: pt, sequenceNumber: seq++, timestamp: ts, ssrc: 0xabc, marker }), payload));
    };
    for (let i = 0; i < 10; i++) send(0, frame(i), i * 160);
    for (const d of [160, 320, 480]) send(101, encodeEvent({ event: 11, end: false, volume: 12, duration: d }), 1600, d === 160);
    for (let i = 0; i < 3; i++) send(101, encodeEvent({ event: 11, end: true, volume: 12, duration: 640 }), 1600);
    for (let i = 10; i < 20; i++) send(0, frame(i), i * 160);
    await until(() => got.length === 1 && r.trunk.rtp.length >= 20, 5000, 'the event read and the audio relayed');
    expect(got).toEqual([{ signal: '#', event: 11, durationMs: 80, volume: 12, endSeen: true }]);
    expect(r.trunk.rtp.filter((p) => (p[1]! & 0x7f) !== 0)).toEqual([]);
    stop();
  });
});

function toBrowserSsrc(r: { pc: RTCPeerConnection }): number {
  const remote = r.pc.remoteDescription!.sdp;
  return Number(/a=ssrc:(\d+) /.exec(remote)![1]);
}
