// Liveness from an ng `query` reply (shape as rtpengine 10.5 answers it): packets per tag, RTCP
// apart when it has its own stream, and hold from the media's send/recv flags.
import { describe, expect, it } from 'vitest';
import { legsFromQuery } from '../../../../gateway/media/rtpengine/query.js';
import type { NgDict } from '../../../../gateway/media/rtpengine/ng-client.js';

function tag(mediaFlags: string[], rtp: number, rtcp?: number): NgDict {
  const streams: NgDict[] = [{ flags: ['RTP', 'filled'], stats: { packets: rtp, bytes: rtp * 172, errors: 0 } }];
  if (rtcp !== undefined) streams.push({ flags: ['RTCP', 'filled'], stats: { packets: rtcp, bytes: 8, errors: 0 } });
  return { medias: [{ index: 1, type: 'audio', flags: ['initialized', ...mediaFlags], streams }] };
}

describe('legsFromQuery', () => {
  it('counts each tag\'s packets, RTCP apart; sendrecv both ways is not hold', () => {
    const reply: NgDict = { result: 'ok', tags: { a: tag(['send', 'recv'], 5, 1), b: tag(['send', 'recv'], 0, 0) } };
    expect(legsFromQuery('c', reply, ['a', 'b'])).toEqual([
      { callId: 'c', tag: 'a', counters: { packetsIn: 6, rtcpIn: 1 }, onHold: false },
      { callId: 'c', tag: 'b', counters: { packetsIn: 0, rtcpIn: 0 }, onHold: false },
    ]);
  });

  it('a media without send or recv means hold for the whole call; a muxed stream counts as media only', () => {
    const reply: NgDict = { result: 'ok', tags: { a: tag(['send'], 9), b: tag(['recv'], 3, 2) } };
    const legs = legsFromQuery('c', reply, ['a', 'b']);
    expect(legs.map((l) => l.onHold)).toEqual([true, true]);
    expect(legs[0]!.counters).toEqual({ packetsIn: 9, rtcpIn: 0 });
  });

  it('tags the reply does not have are left out; a reply without tags gives none', () => {
    expect(legsFromQuery('c', { result: 'ok', tags: { a: tag(['send', 'recv'], 1) } }, ['a', 'gone']).map((l) => l.tag)).toEqual(['a']);
    expect(legsFromQuery('c', { result: 'ok' }, ['a'])).toEqual([]);
  });
});
