import { describe, expect, it } from 'vitest';
import { dropPacket, newCounters, type MediaLeg } from '../../../gateway/media/legs/leg.js';
import { Bridge, loopBack } from '../../../gateway/media/relay.js';
import { nextCallState } from '../../../gateway/media/call.js';

/** A leg without sockets: records what is sent to it; `receive*` plays its peer. */
function fakeLeg(): MediaLeg & { sentRtp: Buffer[]; sentRtcp: Buffer[] } {
  const sentRtp: Buffer[] = [];
  const sentRtcp: Buffer[] = [];
  return {
    profile: 'rtp',
    port: 0,
    counters: newCounters(),
    onRtp: dropPacket,
    onRtcp: dropPacket,
    sendRtp: (p) => void sentRtp.push(Buffer.from(p)),
    sendRtcp: (p) => void sentRtcp.push(Buffer.from(p)),
    close: async () => {},
    sentRtp,
    sentRtcp,
  };
}

function rtp(pt: number, marker = false, payload = Buffer.from([1, 2, 3, 4])): Buffer {
  const header = Buffer.from([0x80, (marker ? 0x80 : 0) | pt, 0, 1, 0, 0, 0, 160, 0xde, 0xad, 0xbe, 0xef]);
  return Buffer.concat([header, payload]);
}

describe('Bridge', () => {
  it('relays RTP and RTCP both ways with bytes unchanged when no PT was renumbered', () => {
    const [a, b] = [fakeLeg(), fakeLeg()];
    new Bridge(a, b);
    const packet = rtp(0);
    a.onRtp(Buffer.from(packet));
    b.onRtcp(Buffer.from([0x80, 200, 0, 1, 1, 2, 3, 4]));
    expect(b.sentRtp).toEqual([packet]);
    expect(a.sentRtcp).toEqual([Buffer.from([0x80, 200, 0, 1, 1, 2, 3, 4])]);
    expect(a.sentRtp).toEqual([]);
  });

  it('maps a renumbered PT in place, keeping the marker bit and the payload', () => {
    const [offerer, answerer] = [fakeLeg(), fakeLeg()];
    const bridge = new Bridge(offerer, answerer);
    // the answerer numbered telephone-event 101 where the offer said 126
    bridge.setPayloadMap(offerer, new Map([[101, 126]]));
    answerer.onRtp(rtp(101, true));
    offerer.onRtp(rtp(126));
    offerer.onRtp(rtp(0));
    expect(offerer.sentRtp[0]![1]).toBe(0x80 | 126);
    expect(offerer.sentRtp[0]!.subarray(12)).toEqual(Buffer.from([1, 2, 3, 4]));
    expect(answerer.sentRtp.map((p) => p[1])).toEqual([101, 0]);
  });

  it('applies the map the right way round when the original answerer re-offers', () => {
    const [a, b] = [fakeLeg(), fakeLeg()];
    const bridge = new Bridge(a, b);
    bridge.setPayloadMap(b, new Map([[101, 126]])); // b offered 126, a answered 101
    a.onRtp(rtp(101));
    b.onRtp(rtp(126));
    expect(b.sentRtp[0]![1]).toBe(126);
    expect(a.sentRtp[0]![1]).toBe(101);
  });
});

describe('loopBack (echo)', () => {
  it('sends the packet back to the same leg under the given SSRC, payload untouched', () => {
    const leg = fakeLeg();
    loopBack(leg, 0x01020304);
    leg.onRtp(rtp(8));
    expect(leg.sentRtp).toHaveLength(1);
    expect(leg.sentRtp[0]!.readUInt32BE(8)).toBe(0x01020304);
    expect(leg.sentRtp[0]!.subarray(0, 8)).toEqual(rtp(8).subarray(0, 8));
    expect(leg.sentRtp[0]!.subarray(12)).toEqual(Buffer.from([1, 2, 3, 4]));
  });

  it('without an SSRC leaves the header to the leg (a WebRTC leg restamps it itself)', () => {
    const leg = fakeLeg();
    loopBack(leg);
    leg.onRtp(rtp(0));
    expect(leg.sentRtp).toEqual([rtp(0)]);
  });

  it('does not loop RTCP', () => {
    const leg = fakeLeg();
    loopBack(leg, 7);
    leg.onRtcp(Buffer.from([0x80, 201, 0, 1, 0, 0, 0, 9]));
    expect(leg.sentRtcp).toEqual([]);
  });
});

describe('call state machine', () => {
  it('allows offer → answer → re-offer → answer → delete and rejects the rest', () => {
    let s = nextCallState('offered', 'answered');
    s = nextCallState(s, 'offered');
    s = nextCallState(s, 'answered');
    expect(nextCallState(s, 'deleted')).toBe('deleted');
    expect(() => nextCallState('deleted', 'offered')).toThrow(/illegal transition/);
    expect(() => nextCallState('echo', 'answered')).toThrow(/illegal transition/);
    expect(() => nextCallState('offered', 'echo')).toThrow(/illegal transition/);
  });
});
