// The rtpengine-backed MediaEngine against a real userspace rtpengine on loopback: the same
// contract the embedded engine's tests exercise. Loopback-only namespace, see engine-relay.test.ts.
import * as sdpTransform from 'sdp-transform';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../gateway/log.js';
import { createRtpengineMediaEngine } from '../../../gateway/media/rtpengine/engine.js';
import { NgClient } from '../../../gateway/media/rtpengine/ng-client.js';
import type { MediaEngine, ModifiableMediaEngine } from '../../../gateway/media/types.js';
import { CHROME_OFFER } from '../../unit/media/sdp-fixtures.js';
import { frame, payloadOf, rtpPacket, startTrunk, until, type Trunk } from './peers.js';
import { freeUdpPort, startRtpengine, type Rtpengine } from './rtpengine-launch.js';

function sdp(port: number): string {
  return ['v=0', 'o=x 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${port} RTP/AVP 0 8 18 101`,
    'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:18 G729/8000', 'a=rtpmap:101 telephone-event/8000', ''].join('\r\n');
}

const portOf = (s: string): number => sdpTransform.parse(s).media[0]!.port;
const directionOf = (s: string) => sdpTransform.parse(s).media[0]!.direction;
const withDir = (s: string, dir: string, version: number): string => `${s.replace('o=x 1 1', `o=x 1 ${version}`)}a=${dir}\r\n`;
const sdpAt = (address: string, port: number): string => sdp(port).replace(/IN IP4 127\.0\.0\.1/g, `IN IP4 ${address}`);
const CARRIER = '127.0.0.20';
const ROGUE = '127.0.0.66';
const MARKER = Buffer.from('ROGUE');

/** ng query: rtpengine confirmed `tag`'s endpoint, at CARRIER. */
async function learned(ng: NgClient, callId: string, tag: string): Promise<boolean> {
  const reply = (await ng.request({ command: 'query', 'call-id': callId })) as { tags?: Record<string, { medias?: Array<{ streams?: Array<{ endpoint?: { address?: string }; flags?: string[] }> }> }> };
  const stream = reply.tags?.[tag]?.medias?.[0]?.streams?.[0];
  return stream?.endpoint?.address === CARRIER && (stream.flags ?? []).includes('confirmed');
}
const N = 120;

describe('rtpengine media engine', () => {
  let rtpengine: Rtpengine | undefined;
  let engine: MediaEngine;
  const peers: Trunk[] = [];
  const peer = async () => {
    const t = await startTrunk();
    peers.push(t);
    return t;
  };

  beforeAll(async () => {
    rtpengine = await startRtpengine();
    engine = await createRtpengineMediaEngine({ address: { host: '127.0.0.1', port: rtpengine.ngPort }, logger: createLogger('silent') });
  });

  afterEach(async () => {
    await Promise.all(peers.splice(0).map((p) => p.close()));
  });

  afterAll(async () => {
    await engine?.close();
    await rtpengine?.stop();
  });

  it('relays RTP ⇄ RTP both ways with identical payloads', async () => {
    const [a, b] = [await peer(), await peer()];
    const offer = await engine.offer({ callId: 'r1', fromTag: 'a', sdp: sdp(a.port), toProfile: 'rtp', codecs: ['PCMU'] });
    expect(sdpTransform.parse(offer.sdp).media[0]!.protocol).toBe('RTP/AVP');
    const answer = await engine.answer({ callId: 'r1', fromTag: 'a', toTag: 'b', sdp: sdp(b.port) });
    const [bSide, aSide] = [portOf(offer.sdp), portOf(answer.sdp)];
    for (let i = 0; i < N; i++) {
      a.socket.send(rtpPacket(i, frame(i)).serialize(), aSide, '127.0.0.1');
      b.socket.send(rtpPacket(i, frame(1000 + i), 0xb).serialize(), bSide, '127.0.0.1');
      if (i % 20 === 19) await new Promise((r) => setImmediate(r));
    }
    await until(() => a.rtp.length >= 100 && b.rtp.length >= 100, 5000, '≥ 100 packets each way');
    const sent = (base: number) => new Set(Array.from({ length: N }, (_, i) => frame(base + i).toString('hex')));
    const [toB, toA] = [sent(0), sent(1000)];
    for (const p of b.rtp) expect(toB.has(payloadOf(p).toString('hex'))).toBe(true);
    for (const p of a.rtp) expect(toA.has(payloadOf(p).toString('hex'))).toBe(true);
    await engine.delete('r1');
  });

  it('turns a Chrome offer into an RTP/AVP offer with only PCMU, PCMA and telephone-event', async () => {
    const offer = await engine.offer({ callId: 'w1', fromTag: 'browser', sdp: CHROME_OFFER, toProfile: 'rtp', codecs: ['PCMU', 'PCMA', 'telephone-event'] });
    const m = sdpTransform.parse(offer.sdp).media[0]!;
    expect(m.protocol).toBe('RTP/AVP');
    expect(m.rtp.map((r) => `${r.codec}/${r.rate}`).sort()).toEqual(['PCMA/8000', 'PCMU/8000', 'telephone-event/8000']);
    expect(m.fingerprint ?? sdpTransform.parse(offer.sdp).fingerprint).toBeUndefined();
    expect(m.candidates).toBeUndefined();
    expect(m.rtcpMux).toBeUndefined();
    await engine.delete('w1');
  });

  it('turns a plain RTP offer into a WebRTC one (ICE-lite, DTLS passive-capable, rtcp-mux)', async () => {
    const a = await peer();
    const offer = await engine.offer({ callId: 'w2', fromTag: 'trunk', sdp: sdp(a.port), toProfile: 'webrtc', codecs: ['PCMU'] });
    const parsed = sdpTransform.parse(offer.sdp);
    const m = parsed.media[0]!;
    expect(m.protocol).toBe('UDP/TLS/RTP/SAVPF');
    expect(m.rtp.map((r) => r.codec)).toEqual(['PCMU']);
    expect(parsed.icelite).toBe('ice-lite');
    expect(m.candidates?.length).toBeGreaterThan(0);
    expect(m.fingerprint ?? parsed.fingerprint).toBeDefined();
    expect(m.rtcpMux).toBe('rtcp-mux');
    await engine.delete('w2');
  });

  it('echoes an RTP offerer\'s media back to it', async () => {
    const a = await peer();
    const answer = await engine.echo({ callId: 'e1', fromTag: 'a', sdp: sdp(a.port), codecs: ['PCMU'] });
    const aSide = portOf(answer.sdp);
    for (let i = 0; i < 20; i++) a.socket.send(rtpPacket(i, frame(i)).serialize(), aSide, '127.0.0.1');
    await until(() => a.rtp.length >= 15, 5000, 'echoed packets');
    expect(payloadOf(a.rtp[0]!).readUInt32BE(0)).toBeLessThan(20);
    await engine.delete('e1');
  });

  it('strict source: once rtpengine has learned the carrier (its SDP address preferred), a rogue host is dropped', async () => {
    const [phone, carrier, rogue] = [await peer(), await startTrunk(CARRIER), await startTrunk(ROGUE)];
    peers.push(carrier, rogue);
    const offer = await engine.offer({ callId: 's1', fromTag: 'phone', sdp: sdp(phone.port), toProfile: 'rtp', codecs: ['PCMU'], peerAddress: '127.0.0.1' });
    await engine.answer({ callId: 's1', fromTag: 'phone', toTag: 'carrier', sdp: sdpAt(CARRIER, carrier.port), peerAddress: CARRIER });
    const carrierSide = portOf(offer.sdp);
    const leaked = () => phone.rtp.filter((p) => p.includes(MARKER)).length;
    let seq = 0;
    const both = async () => {
      carrier.socket.send(rtpPacket(seq, frame(seq)).serialize(), carrierSide, '127.0.0.1');
      rogue.socket.send(rtpPacket(seq, Buffer.concat(Array.from({ length: 32 }, () => MARKER)), 0xbad).serialize(), carrierSide, '127.0.0.1');
      seq++;
      await new Promise((r) => setTimeout(r, 20));
    };
    // rtpengine learns an endpoint during its first seconds and forwards from anywhere meanwhile (a
    // limit of rtpengine, unlike the embedded engine); wait until it has confirmed the carrier.
    const ng = new NgClient({ host: '127.0.0.1', port: rtpengine!.ngPort }, 1000, createLogger('silent'));
    try {
      const deadline = Date.now() + 15_000;
      while (!(await learned(ng, 's1', 'carrier'))) {
        if (Date.now() > deadline) throw new Error('rtpengine never confirmed the carrier\'s address');
        await both();
      }
    } finally {
      ng.close();
    }
    const [heard, leakedBefore] = [phone.rtp.length, leaked()];
    for (let i = 0; i < 50; i++) await both();
    await until(() => phone.rtp.length >= heard + 50, 5000, 'the carrier\'s 50 packets after learning');
    expect(leaked()).toBe(leakedBefore);
    expect(rogue.rtp).toHaveLength(0);
    await engine.delete('s1');
  });

  it('hold re-offer from the answerer: the other side is offered sendonly, its recvonly answer goes back; resume; a refresh answered locally', async () => {
    const [a, b] = [await peer(), await peer()];
    const modifiable = engine as ModifiableMediaEngine;
    await engine.offer({ callId: 'h1', fromTag: 'a', sdp: sdp(a.port), toProfile: 'rtp', codecs: ['PCMU'] });
    await engine.answer({ callId: 'h1', fromTag: 'a', toTag: 'b', sdp: sdp(b.port) });
    const held = await engine.offer({ callId: 'h1', fromTag: 'b', sdp: withDir(sdp(b.port), 'sendonly', 2), toProfile: 'rtp' });
    expect(directionOf(held.sdp)).toBe('sendonly');
    const heldAnswer = await engine.answer({ callId: 'h1', fromTag: 'b', toTag: 'a', sdp: withDir(sdp(a.port), 'recvonly', 2) });
    expect(directionOf(heldAnswer.sdp)).toBe('recvonly');
    const resumed = await engine.offer({ callId: 'h1', fromTag: 'b', sdp: withDir(sdp(b.port), 'sendrecv', 3), toProfile: 'rtp' });
    expect(directionOf(resumed.sdp)).toBe('sendrecv');
    expect(directionOf((await engine.answer({ callId: 'h1', fromTag: 'b', toTag: 'a', sdp: withDir(sdp(a.port), 'sendrecv', 3) })).sdp)).toBe('sendrecv');
    // an unchanged refresh from a: answered without a new offer to b; the same o= gets the same answer
    const refresh = withDir(sdp(a.port), 'sendrecv', 3);
    const first = await modifiable.answerLocally({ callId: 'h1', fromTag: 'a', sdp: refresh });
    expect(directionOf(first.sdp)).toBe('sendrecv');
    expect((await modifiable.answerLocally({ callId: 'h1', fromTag: 'a', sdp: refresh })).sdp).toBe(first.sdp);
    await expect(modifiable.answerLocally({ callId: 'h1', fromTag: 'a', sdp: withDir(sdp(a.port), 'inactive', 4) })).rejects.toThrow(/direction/);
    await engine.delete('h1');
  });

  it('inactivity by ng query polling: a silent call is reported for both tags; a talking one is not', async () => {
    const watching = await createRtpengineMediaEngine({ address: { host: '127.0.0.1', port: rtpengine!.ngPort }, logger: createLogger('silent'), inactivityTimeoutMs: 1500 });
    const [a, b] = [await peer(), await peer()];
    const reports: string[] = [];
    watching.onInactive((callId, leg, reason) => reports.push(`${callId} ${leg} ${reason}`));
    try {
      await watching.offer({ callId: 'i1', fromTag: 'a', sdp: sdp(a.port), toProfile: 'rtp', codecs: ['PCMU'] });
      const answer = await watching.answer({ callId: 'i1', fromTag: 'a', toTag: 'b', sdp: sdp(b.port) });
      let seq = 0;
      const talking = setInterval(() => a.socket.send(rtpPacket(seq++, frame(seq)).serialize(), portOf(answer.sdp), '127.0.0.1'), 20);
      try {
        await until(() => reports.length === 1, 10_000, 'b reported inactive');
        expect(reports).toEqual(['i1 b no-rtp-rtcp']); // a keeps talking
      } finally {
        clearInterval(talking);
      }
      await until(() => reports.length === 2, 10_000, 'a reported inactive after it stopped');
      expect(reports[1]).toBe('i1 a no-rtp-rtcp');
    } finally {
      await watching.delete('i1');
      await watching.close();
    }
  });

  it('maps ng errors: answer to an unknown call is unknown-call; delete is idempotent', async () => {
    await expect(engine.answer({ callId: 'nope', fromTag: 'a', toTag: 'b', sdp: sdp(9) })).rejects.toMatchObject({ code: 'unknown-call' });
    await expect(engine.delete('nope')).resolves.toBeUndefined();
    await expect(engine.offer({ callId: 'bad', fromTag: 'a', sdp: 'garbage', toProfile: 'rtp' })).rejects.toMatchObject({ code: 'bad-sdp' });
  });

  it('fails to start naming the address when nothing answers the ping', async () => {
    const port = await freeUdpPort();
    await expect(createRtpengineMediaEngine({ address: { host: '127.0.0.1', port }, logger: createLogger('silent'), timeoutMs: 200 }))
      .rejects.toThrow(`127.0.0.1:${port}`);
  });
});
