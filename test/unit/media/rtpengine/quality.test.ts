// Quality figures from an rtpengine ng `query` reply (gateway/media/rtpengine/quality.ts). The shape: per
// tag, medias with streams (flags RTP/RTCP, the stream's ingress SSRC, stats); the top-level "SSRC"
// dictionary as rtpengine fills it from the RTCP receiver reports it relays, per reporting SSRC (MOS ×10,
// loss %, jitter ms, round trip µs).
import { describe, expect, it } from 'vitest';
import type { NgDict } from '../../../../gateway/media/rtpengine/ng-client.js';
import { qualityFromQuery } from '../../../../gateway/media/rtpengine/quality.js';

function tag(ssrc: number, rtp: number, rtcp: number, protocol = 'RTP/AVP'): NgDict {
  return {
    medias: [
      {
        index: 1,
        type: 'audio',
        protocol,
        codec: 'PCMU/8000',
        flags: ['initialized', 'send', 'recv'],
        streams: [
          { flags: ['RTP', 'filled'], SSRC: ssrc, stats: { packets: rtp, bytes: rtp * 172, errors: 0 } },
          { flags: ['RTCP', 'filled'], SSRC: ssrc, stats: { packets: rtcp, bytes: 64, errors: 0 } },
        ],
      },
    ],
  };
}

describe('qualityFromQuery (rtpengine)', () => {
  it('per tag: packets and RTCP in, the other tag\'s packets as out; the MOS, loss, jitter and round trip its own SSRC reported as out', () => {
    const reply: NgDict = {
      result: 'ok',
      SSRC: {
        '201209520': {
          'cumulative loss': 12,
          'average MOS': { MOS: 41, 'round-trip time': 297329, jitter: 3, 'packet loss': 5, samples: 3 },
          'lowest MOS': { MOS: 40, 'round-trip time': 249450, jitter: 0, 'packet loss': 4, 'reported at': 1565592075 },
        },
        '2071600809': {},
      },
      tags: { trunk: tag(201209520, 380, 3), browser: tag(2071600809, 400, 2, 'UDP/TLS/RTP/SAVPF') },
    };
    const q = qualityFromQuery(reply, ['browser', 'trunk', 'gone']);
    expect(q.source).toBe('rtpengine');
    expect(q.legs.map((l) => l.tag)).toEqual(['browser', 'trunk']);
    const [browser, trunk] = q.legs;
    expect(trunk).toMatchObject({ profile: 'rtp', codec: 'PCMU', rttMs: 297.33, rtcpIn: 3, rtcpOut: 2 });
    expect(trunk!.out).toEqual({ packets: 400, expected: null, lost: 12, lossPercent: 5, intervalLossPercent: null, jitterMs: 3, mos: 4.1 });
    expect(trunk!.in).toMatchObject({ packets: 380, lost: null, mos: null });
    expect(browser).toMatchObject({ profile: 'webrtc', rttMs: null });
    expect(browser!.in).toMatchObject({ packets: 400, lossPercent: null, mos: null });
    expect(browser!.out).toMatchObject({ packets: 380, lossPercent: null, mos: null });
  });

  it('a reply without tags, medias or stats gives empty figures, never a throw', () => {
    expect(qualityFromQuery({ result: 'ok' }, ['a'])).toEqual({ source: 'rtpengine', legs: [] });
    const odd: NgDict = { result: 'ok', SSRC: 'x' as unknown as NgDict, tags: { a: { medias: 'no' } as unknown as NgDict, b: { medias: [{ streams: [{ stats: { packets: 'many' } }] }] } } };
    const q = qualityFromQuery(odd, ['a', 'b']);
    expect(q.legs.map((l) => [l.tag, l.in.packets, l.out.packets])).toEqual([['a', 0, 0], ['b', 0, 0]]);
  });
});
