// Forking an inbound call: one media session per fork (`${callId}:${n}`), each made by offer() of the
// same trunk offer; the first answer wins, the losers are deleted. And delete() racing an offer() that
// is still opening its sockets. Loopback-only namespace, see engine-b2b.test.ts.
import * as sdpTransform from 'sdp-transform';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MediaEngine } from '../../../gateway/media/types.js';
import type { PortRange } from '../../../gateway/media/ports.js';
import {
  answerOf,
  bindsFree,
  countFrames,
  frame,
  payloadOf,
  rtpPacket,
  sendFrames,
  until,
  waitConnected,
  type Trunk,
} from './peers.js';
import { startMediaRig, type MediaRig } from './rig.js';

function trunkOffer(port: number): string {
  return [
    'v=0', 'o=trunk 7 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0',
    `m=audio ${port} RTP/AVP 0 8 101`, 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16', 'a=ptime:20', 'a=sendrecv', '',
  ].join('\r\n');
}

/** Ports of the range that cannot be bound right now (held by the engine). */
async function held(range: PortRange): Promise<number[]> {
  const busy: number[] = [];
  for (let p = range.from; p <= range.to; p++) if (!(await bindsFree(p))) busy.push(p);
  return busy;
}

describe('embedded media engine: forks and races', () => {
  let engine: MediaEngine;
  let trunk: Trunk;
  let range: PortRange;
  let rig: MediaRig;

  beforeEach(async () => {
    rig = await startMediaRig(12);
    ({ engine, trunk, range } = rig);
  });

  afterEach(() => rig.close());

  it('two forks of one trunk offer: one answered, the other deleted at once; media flows to the winner only', async () => {
    const offer = trunkOffer(trunk.port);
    const [toB1, toB2] = await Promise.all([
      engine.offer({ callId: 'in:1', fromTag: 'trunk', sdp: offer, toProfile: 'webrtc' }),
      engine.offer({ callId: 'in:2', fromTag: 'trunk', sdp: offer, toProfile: 'webrtc' }),
    ]);
    const [m1, m2] = [sdpTransform.parse(toB1.sdp).media[0]!, sdpTransform.parse(toB2.sdp).media[0]!];
    expect(m1.port).not.toBe(m2.port);
    expect(m1.iceUfrag).not.toBe(m2.iceUfrag);
    expect(m2.payloads).toBe('0 8 101');
    expect((await held(range)).length).toBe(6); // per fork: an RTP/RTCP pair toward the trunk + one browser port

    const [b1, b2] = [rig.peer(), rig.peer()];
    const b1Answer = await answerOf(b1.pc, toB1.sdp);
    const b2Answer = await answerOf(b2.pc, toB2.sdp); // b2 answers too late: the call layer drops it
    const toTrunk = await engine.answer({ callId: 'in:1', fromTag: 'trunk', toTag: 'b1', sdp: b1Answer });
    await engine.delete('in:2');

    // the loser's ports are free as soon as delete() resolves; the winner holds exactly its own
    const trunkSide = sdpTransform.parse(toTrunk.sdp).media[0]!.port;
    expect(await held(range)).toEqual([trunkSide, trunkSide + 1, m1.port].sort((a, b) => a - b));
    expect(engine.stats('in:2')).toBeUndefined();
    // an answer for the deleted fork: unknown-call, and nothing changes
    await expect(engine.answer({ callId: 'in:2', fromTag: 'trunk', toTag: 'b2', sdp: b2Answer })).rejects.toMatchObject({
      name: 'MediaError',
      code: 'unknown-call',
    });
    expect(engine.stats('in:2')).toBeUndefined();
    expect(await held(range)).toEqual([trunkSide, trunkSide + 1, m1.port].sort((a, b) => a - b));

    await waitConnected(b1.pc);
    for (let n = 0; n < 120; n++) {
      trunk.socket.send(rtpPacket(n, frame(n), 0xfeed).serialize(), trunkSide, '127.0.0.1');
      await new Promise((r) => setTimeout(r, 2));
    }
    await until(() => countFrames(b1.received.map((p) => p.payload), 0, 120) >= 100, 5000, '100 trunk frames at the winner');
    await sendFrames(b1.track, 500, 120);
    await until(() => countFrames(trunk.rtp.map(payloadOf), 500, 120) >= 100, 5000, '100 winner frames at the trunk');
    expect(b2.received).toHaveLength(0);
    expect(Object.keys(engine.stats('in:1')!.legs).sort()).toEqual(['b1', 'trunk']);
  });

  it('delete() racing an in-flight offer(): the offer rejects with unknown-call and frees its ports when it completes', async () => {
    const pending = engine.offer({ callId: 'race', fromTag: 'trunk', sdp: trunkOffer(trunk.port), toProfile: 'webrtc' });
    await engine.delete('race');
    await expect(pending).rejects.toMatchObject({ code: 'unknown-call' });
    expect(engine.stats('race')).toBeUndefined();
    expect(await held(range)).toEqual([]);
    // the key is usable again afterwards
    await engine.offer({ callId: 'race', fromTag: 'trunk', sdp: trunkOffer(trunk.port), toProfile: 'webrtc' });
    expect((await held(range)).length).toBe(3);
  });

  it('a second offer for the same key while the first is in flight: the first gives its ports back', async () => {
    const first = engine.offer({ callId: 'twice', fromTag: 'trunk', sdp: trunkOffer(trunk.port), toProfile: 'webrtc' });
    const second = engine.offer({ callId: 'twice', fromTag: 'trunk', sdp: trunkOffer(trunk.port), toProfile: 'webrtc' });
    await expect(first).rejects.toMatchObject({ code: 'unknown-call' });
    const port = sdpTransform.parse((await second).sdp).media[0]!.port;
    const busy = await held(range);
    expect(busy).toHaveLength(3);
    expect(busy).toContain(port);
  });

  it('close() during an in-flight offer leaves no port behind', async () => {
    const pending = engine.offer({ callId: 'closing', fromTag: 'trunk', sdp: trunkOffer(trunk.port), toProfile: 'webrtc' });
    await engine.close();
    await expect(pending).rejects.toMatchObject({ name: 'MediaError' });
    expect(await held(range)).toEqual([]);
  });
});
