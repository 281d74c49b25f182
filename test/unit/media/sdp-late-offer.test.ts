// Answers for a late offer toward a trunk (gateway/media/sdp/late-offer.ts): our unsent offer narrowed to
// the trunk's offer (RFC 3264 §6.1), and the refusing answer an ACK carries before a BYE.
import sdpTransform from 'sdp-transform';
import { describe, expect, it } from 'vitest';
import { answerFromOwnOffer, refusingAnswer } from '../../../gateway/media/sdp/late-offer.js';
import { MediaError } from '../../../gateway/media/types.js';

const sdp = (...lines: string[]): string => [...lines, ''].join('\r\n');
const OURS = sdp('v=0', 'o=- 7 1 IN IP4 203.0.113.5', 's=-', 'c=IN IP4 203.0.113.5', 't=0 0', 'm=audio 41000 RTP/AVP 0 8 101', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-15', 'a=sendrecv');
const TRUNK = sdp('v=0', 'o=t 1 1 IN IP4 198.51.100.7', 's=-', 'c=IN IP4 198.51.100.7', 't=0 0', 'm=audio 30000 RTP/AVP 18 8 96', 'a=rtpmap:18 G729/8000', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:96 telephone-event/8000', 'a=fmtp:96 0-16', 'a=sendonly', 'm=video 30002 RTP/AVP 97', 'a=rtpmap:97 H264/90000');

describe('answerFromOwnOffer (RFC 3264 §6)', () => {
  it('keeps our address and port, answers only the offered codecs we have with the offer\'s numbers, reverses the direction, refuses other m-lines', () => {
    const answer = sdpTransform.parse(answerFromOwnOffer(OURS, TRUNK));
    expect(answer.media).toHaveLength(2);
    const audio = answer.media[0]!;
    expect(answer.connection?.ip ?? audio.connection?.ip).toBe('203.0.113.5');
    expect(audio.port).toBe(41000);
    expect(audio.payloads).toBe('8 96');
    expect(audio.rtp.map((r) => `${r.payload} ${r.codec}`)).toEqual(['8 PCMA', '96 telephone-event']);
    expect(audio.fmtp).toEqual([{ payload: 96, config: '0-16' }]);
    expect(audio.direction).toBe('recvonly');
    expect(answer.media[1]).toMatchObject({ type: 'video', port: 0 });
  });

  it('no common audio codec → MediaError no-common-codec', () => {
    const g729 = TRUNK.replace('m=audio 30000 RTP/AVP 18 8 96', 'm=audio 30000 RTP/AVP 18 96').replace('a=rtpmap:8 PCMA/8000\r\n', '');
    const attempt = (): unknown => {
      try {
        return answerFromOwnOffer(OURS, g729);
      } catch (err) {
        return err;
      }
    };
    const err = attempt();
    expect(err).toBeInstanceOf(MediaError);
    expect((err as MediaError).code).toBe('no-common-codec');
  });
});

describe('refusingAnswer', () => {
  it('every m-line of the offer, port 0', () => {
    const answer = sdpTransform.parse(refusingAnswer(TRUNK));
    expect(answer.media.map((m) => [m.type, m.port])).toEqual([['audio', 0], ['video', 0]]);
  });
});
