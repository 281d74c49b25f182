// Hold and direction on an established call (RFC 3264 §5.1, §6.1, §8.4): how each side's direction is
// understood (the RFC 2543 c=0.0.0.0 hold included), mirrored toward the other leg, and enforced by
// the relay; and which re-offers need the other leg at all (needsOtherSide).
import * as sdpTransform from 'sdp-transform';
import { describe, expect, it } from 'vitest';
import { needsOtherSide } from '../../../gateway/media/index.js';
import { dropPacket, newCounters, type MediaLeg } from '../../../gateway/media/legs/leg.js';
import { Bridge } from '../../../gateway/media/relay.js';
import { produceAnswer, produceOffer, produceSelfAnswer, type LocalTransport } from '../../../gateway/media/sdp/convert.js';
import { effectiveDirection, flows, intersect } from '../../../gateway/media/sdp/direction.js';
import { parseAudioSdp, type Direction } from '../../../gateway/media/sdp/model.js';
import { MediaError } from '../../../gateway/media/types.js';
import { CHROME_OFFER, TRUNK_ANSWER, TRUNK_OFFER } from './sdp-fixtures.js';

const rtpLocal: LocalTransport = { profile: 'rtp', address: '192.0.2.10', port: 20000, origin: { sessionId: '42', version: 1 } };

/** TRUNK_OFFER with its a= direction, c= address, o= version or codecs replaced. */
function phone({ dir = 'sendrecv', c = '127.0.0.1', version = 1, port = 40002, codecs = '0 8 101', ptime = 20 } = {}): string {
  return TRUNK_OFFER.replace('a=sendrecv', `a=${dir}`)
    .replace('c=IN IP4 127.0.0.1', `c=IN IP4 ${c}`)
    .replace('o=trunk 99 1', `o=trunk 99 ${version}`)
    .replace('m=audio 40002 RTP/AVP 0 8 101', `m=audio ${port} RTP/AVP ${codecs}`)
    .replace('a=ptime:20', `a=ptime:${ptime}`);
}

function fakeLeg(): MediaLeg & { sent: number } {
  const leg = { profile: 'rtp' as const, port: 0, counters: newCounters(), onRtp: dropPacket, onRtcp: dropPacket, sent: 0, sendRtp: () => void leg.sent++, sendRtcp: () => void leg.sent++, close: async () => {} };
  return leg;
}

const RTP = () => Buffer.from([0x80, 0, 0, 1, 0, 0, 0, 160, 1, 2, 3, 4, 9, 9]);
const RTCP = () => Buffer.from([0x80, 200, 0, 1, 1, 2, 3, 4]);

describe('direction of a side', () => {
  it('is the a= direction for an SDP with a real address', () => {
    for (const dir of ['sendrecv', 'sendonly', 'recvonly', 'inactive'] as Direction[]) {
      expect(effectiveDirection(parseAudioSdp(phone({ dir })))).toBe(dir);
    }
  });

  it('RFC 2543 hold: c=0.0.0.0 takes receiving away (sendrecv → sendonly, recvonly → inactive)', () => {
    expect(effectiveDirection(parseAudioSdp(phone({ c: '0.0.0.0' })))).toBe('sendonly');
    expect(effectiveDirection(parseAudioSdp(phone({ c: '0.0.0.0', dir: 'recvonly' })))).toBe('inactive');
    expect(effectiveDirection(parseAudioSdp(phone({ c: '0.0.0.0', dir: 'sendonly' })))).toBe('sendonly');
  });

  it('with ICE, c=0.0.0.0 is no hold (a browser writes it in every offer)', () => {
    expect(effectiveDirection(parseAudioSdp(CHROME_OFFER))).toBe('sendrecv');
  });

  it('flows only from a sender to a receiver; intersect combines both constraints', () => {
    expect(flows('sendonly', 'recvonly')).toBe(true);
    expect(flows('recvonly', 'sendonly')).toBe(false);
    expect(flows('sendrecv', 'inactive')).toBe(false);
    expect(intersect('sendonly', 'sendrecv')).toBe('sendonly');
    expect(intersect('recvonly', 'sendonly')).toBe('inactive');
  });
});

describe('hold mirrored across the B2BUA', () => {
  it('the holder sends sendonly → the other leg is offered sendonly; its recvonly answer goes back recvonly', () => {
    const hold = parseAudioSdp(phone({ dir: 'sendonly', version: 2 }));
    const toOther = produceOffer(hold, rtpLocal);
    expect(sdpTransform.parse(toOther.sdp).media[0]!.direction).toBe('sendonly');
    const otherAnswer = parseAudioSdp(TRUNK_ANSWER.replace('a=sendrecv', 'a=recvonly').replace('m=audio 40000 RTP/AVP 8 126', 'm=audio 40000 RTP/AVP 0'));
    const back = produceAnswer(hold, toOther.codecs, otherAnswer, { ...rtpLocal, port: 20002 });
    expect(sdpTransform.parse(back.sdp).media[0]!.direction).toBe('recvonly');
  });

  it('an old phone\'s c=0.0.0.0 hold reaches the other leg as a=sendonly with our address', () => {
    const toOther = sdpTransform.parse(produceOffer(parseAudioSdp(phone({ c: '0.0.0.0', version: 2 })), rtpLocal).sdp);
    expect(toOther.media[0]!.direction).toBe('sendonly');
    expect(toOther.connection!.ip).toBe('192.0.2.10');
  });

  it('inactive stays inactive both ways; the engine answering itself reverses sendonly', () => {
    expect(sdpTransform.parse(produceOffer(parseAudioSdp(phone({ dir: 'inactive' })), rtpLocal).sdp).media[0]!.direction).toBe('inactive');
    expect(sdpTransform.parse(produceSelfAnswer(parseAudioSdp(phone({ dir: 'sendonly' })), rtpLocal)).media[0]!.direction).toBe('recvonly');
  });
});

describe('the relay enforces the negotiated directions', () => {
  it('holder sendonly / held recvonly: RTP only from the holder, the held side\'s RTP counted as held; RTCP both ways', () => {
    const [holder, held] = [fakeLeg(), fakeLeg()];
    const bridge = new Bridge(held, holder);
    bridge.setDirections(holder, 'sendonly', 'recvonly');
    holder.onRtp(RTP());
    held.onRtp(RTP());
    held.onRtp(RTP());
    held.onRtcp(RTCP());
    holder.onRtcp(RTCP());
    expect(held.sent).toBe(2); // holder's RTP + holder's RTCP
    expect(holder.sent).toBe(1); // held side's RTCP only
    expect(held.counters.packetsHeld).toBe(2);
    expect(holder.counters.packetsHeld).toBe(0);
  });

  it('resume (sendrecv both) forwards both ways again; inactive forwards none', () => {
    const [a, b] = [fakeLeg(), fakeLeg()];
    const bridge = new Bridge(a, b);
    bridge.setDirections(a, 'inactive', 'inactive');
    a.onRtp(RTP());
    b.onRtp(RTP());
    expect(a.sent + b.sent).toBe(0);
    bridge.setDirections(b, 'sendrecv', 'sendrecv');
    a.onRtp(RTP());
    b.onRtp(RTP());
    expect([a.sent, b.sent]).toEqual([1, 1]);
    expect([a.counters.packetsHeld, b.counters.packetsHeld]).toEqual([1, 1]);
  });
});

describe('needsOtherSide: what a re-offer changes for the other leg', () => {
  const before = phone();

  it('an unchanged refresh, a new address/port, a new o= version alone: local', () => {
    expect(needsOtherSide(before, phone())).toBe(false);
    expect(needsOtherSide(before, phone({ version: 2, c: '127.0.0.9', port: 41000 }))).toBe(false);
  });

  it('hold, resume, RFC 2543 hold: direction', () => {
    expect(needsOtherSide(before, phone({ dir: 'sendonly', version: 2 }))).toBe('direction');
    expect(needsOtherSide(before, phone({ c: '0.0.0.0', version: 2 }))).toBe('direction');
    expect(needsOtherSide(phone({ dir: 'sendonly' }), phone({ version: 2 }))).toBe('direction');
    expect(needsOtherSide(before, phone({ dir: 'inactive' }))).toBe('direction');
  });

  it('another preferred codec or a dropped one: codecs; the same ones re-listed after a narrower answer: local', () => {
    expect(needsOtherSide(before, phone({ codecs: '8 0 101' }))).toBe('codecs');
    expect(needsOtherSide(before, phone({ codecs: '0 101' }))).toBe('codecs');
    const answeredPcmuOnly = TRUNK_ANSWER.replace('m=audio 40000 RTP/AVP 8 126', 'm=audio 40000 RTP/AVP 0');
    expect(needsOtherSide(answeredPcmuOnly, TRUNK_ANSWER.replace('m=audio 40000 RTP/AVP 8 126', 'm=audio 40000 RTP/AVP 0 8'))).toBe(false);
  });

  it('ptime: ptime; a browser ICE restart or new fingerprint: local', () => {
    expect(needsOtherSide(before, phone({ ptime: 30 }))).toBe('ptime');
    const restarted = CHROME_OFFER.replace('a=ice-ufrag:Fq3x', 'a=ice-ufrag:Zz99').replace('a=fingerprint:sha-256 7B', 'a=fingerprint:sha-256 7C').replace(' 2 IN IP4', ' 3 IN IP4');
    expect(needsOtherSide(CHROME_OFFER, restarted)).toBe(false);
    expect(needsOtherSide(CHROME_OFFER, TRUNK_OFFER)).toBe('profile');
  });

  it('throws the parser\'s MediaError for SDP that is not SDP', () => {
    expect(() => needsOtherSide(before, 'garbage')).toThrow(MediaError);
  });
});
