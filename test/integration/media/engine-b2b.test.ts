// Browser-to-browser through the engine: two werift peers, each on its own ICE-lite/DTLS-SRTP leg of
// the engine, SRTP ⇄ SRTP relay with payloads unchanged. Loopback-only namespace:
//   unshare -n sh -c 'ip link set lo up && npx vitest run --project integration test/integration/media'
import * as sdpTransform from 'sdp-transform';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MediaEngine } from '../../../gateway/media/types.js';
import { answerOf, bindsFree, countFrames, offerOf, sendFrames, until, waitConnected } from './peers.js';
import { startMediaRig, type MediaRig, type Peer } from './rig.js';
const payloads = (peer: Peer) => peer.received.map((p) => p.payload);

describe('embedded media engine: browser ⇄ browser', () => {
  let engine: MediaEngine;
  let rig: MediaRig;
  const peer = (): Peer => rig.peer();

  beforeEach(async () => {
    rig = await startMediaRig(30);
    engine = rig.engine;
  });

  afterEach(() => rig.close());

  /** alice calls bob: alice's offer → engine → bob; bob's answer → engine → alice. */
  async function call(alice: Peer, bob: Peer): Promise<{ toBob: string; toAlice: string }> {
    const toBob = (await engine.offer({ callId: 'b2b', fromTag: 'alice', sdp: await offerOf(alice.pc), toProfile: 'webrtc' })).sdp;
    const bobAnswer = await answerOf(bob.pc, toBob);
    const toAlice = (await engine.answer({ callId: 'b2b', fromTag: 'alice', toTag: 'bob', sdp: bobAnswer })).sdp;
    await alice.pc.setRemoteDescription({ type: 'answer', sdp: toAlice });
    await Promise.all([waitConnected(alice.pc), waitConnected(bob.pc)]);
    return { toBob, toAlice };
  }

  it('relays ≥ 100 packets each way with identical payloads, each browser on its own engine leg', async () => {
    const [alice, bob] = [peer(), peer()];
    const { toBob, toAlice } = await call(alice, bob);
    const [offer, answer] = [sdpTransform.parse(toBob), sdpTransform.parse(toAlice)];
    expect(offer.icelite).toBe('ice-lite');
    expect(offer.media[0]!.setup).toBe('actpass');
    expect(answer.media[0]!.setup).toBe('passive');
    expect(offer.media[0]!.port).not.toBe(answer.media[0]!.port);
    expect(offer.media[0]!.iceUfrag).not.toBe(answer.media[0]!.iceUfrag);

    await sendFrames(alice.track, 0, 120);
    await until(() => countFrames(payloads(bob), 0, 120) >= 100, 5000, '100 of alice’s frames at bob');
    await sendFrames(bob.track, 1000, 120);
    await until(() => countFrames(payloads(alice), 1000, 120) >= 100, 5000, '100 of bob’s frames at alice');

    // each browser hears the engine's SSRC announced to it, never the other browser's own
    const bobHears = Number(offer.media[0]!.ssrcs!.find((s) => s.attribute === 'cname')!.id);
    const aliceHears = Number(answer.media[0]!.ssrcs!.find((s) => s.attribute === 'cname')!.id);
    expect(new Set(bob.received.map((p) => p.header.ssrc))).toEqual(new Set([bobHears]));
    expect(new Set(alice.received.map((p) => p.header.ssrc))).toEqual(new Set([aliceHears]));

    const stats = engine.stats('b2b')!;
    expect(stats.legs.alice!.packetsIn).toBeGreaterThanOrEqual(100);
    expect(stats.legs.bob!.packetsIn).toBeGreaterThanOrEqual(100);

    await engine.delete('b2b');
    expect(await bindsFree(offer.media[0]!.port)).toBe(true);
    expect(await bindsFree(answer.media[0]!.port)).toBe(true);
  });

  it('the caller re-offers from a new PeerConnection (new certificate, ICE credentials, SSRC, far-away SEQ): a new DTLS association, media continues both ways', async () => {
    const [alice, bob] = [peer(), peer()];
    const { toAlice: firstAnswer } = await call(alice, bob);
    await sendFrames(alice.track, 0, 60);
    await until(() => countFrames(payloads(bob), 0, 60) >= 50, 5000, 'first frames at bob');
    await alice.pc.close();

    const alice2 = peer();
    const reoffer = await engine.offer({ callId: 'b2b', fromTag: 'alice', sdp: await offerOf(alice2.pc), toProfile: 'webrtc' });
    // the re-offer to bob keeps his leg as it is (same port, ICE credentials, DTLS association)
    const toBobAgain = sdpTransform.parse(reoffer.sdp).media[0]!;
    await bob.pc.setRemoteDescription({ type: 'offer', sdp: reoffer.sdp });
    await bob.pc.setLocalDescription(await bob.pc.createAnswer());
    const toAlice2 = (await engine.answer({ callId: 'b2b', fromTag: 'alice', toTag: 'bob', sdp: bob.pc.localDescription!.sdp })).sdp;
    const [a1, a2] = [sdpTransform.parse(firstAnswer).media[0]!, sdpTransform.parse(toAlice2).media[0]!];
    expect(a2.port).toBe(a1.port);
    expect(a2.iceUfrag).not.toBe(a1.iceUfrag); // RFC 8839: an ICE restart is answered with new credentials
    expect(toBobAgain.port).toBeGreaterThan(0);
    await alice2.pc.setRemoteDescription({ type: 'answer', sdp: toAlice2 });
    await waitConnected(alice2.pc);

    // a SEQ 2^15+ away from alice's first stream: bob only decrypts it if the engine rebased it
    const before = bob.received.length;
    await sendFrames(alice2.track, 5000, 120, 40000);
    await until(() => countFrames(payloads(bob), 5000, 120) >= 100, 5000, '100 of the new alice’s frames at bob');
    const seqs = bob.received.slice(before).map((p) => p.header.sequenceNumber);
    expect(Math.max(...seqs)).toBeLessThan(1000); // continuing from the first stream, not at 40000
    await sendFrames(bob.track, 7000, 120);
    await until(() => countFrames(payloads(alice2), 7000, 120) >= 100, 5000, '100 of bob’s frames at the new alice');
  });
});
