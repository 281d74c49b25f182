import { describe, expect, it } from 'vitest';
import { parseAudioSdp, requireWebrtcAttributes } from '../../../gateway/media/sdp/model.js';
import { CHROME_OFFER, TRUNK_OFFER } from './sdp-fixtures.js';

const badSdp = (sdp: string) => {
  try {
    parseAudioSdp(sdp);
  } catch (e) {
    return e as { code?: string; message: string };
  }
  throw new Error('expected a failure');
};

describe('parseAudioSdp', () => {
  it('reads a Chrome offer', () => {
    const d = parseAudioSdp(CHROME_OFFER);
    expect(d.profile).toBe('webrtc');
    expect(d.mid).toBe('0');
    expect(d.setup).toBe('actpass');
    expect(d.iceUfrag).toBe('Fq3x');
    expect(d.fingerprint?.type).toBe('sha-256');
    expect(d.rtcpMux).toBe(true);
    expect(d.codecs.map((c) => c.pt)).toEqual([111, 63, 9, 0, 8, 13, 110, 126]);
    expect(d.codecs[0]).toMatchObject({ name: 'opus', rate: 48000, channels: 2, fmtp: 'minptime=10;useinbandfec=1' });
    expect(() => requireWebrtcAttributes(d)).not.toThrow();
  });

  it('reads a trunk offer, static PT without rtpmap included', () => {
    const d = parseAudioSdp(TRUNK_OFFER.replace('a=rtpmap:0 PCMU/8000\r\n', ''));
    expect(d.profile).toBe('rtp');
    expect(d.address).toBe('127.0.0.1');
    expect(d.port).toBe(40002);
    expect(d.codecs.map((c) => `${c.pt} ${c.name}`)).toEqual(['0 PCMU', '8 PCMA', '101 telephone-event']);
  });

  it('rejects garbage and SDP without audio as bad-sdp', () => {
    expect(badSdp('hello').code).toBe('bad-sdp');
    expect(badSdp('v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\n').message).toMatch(/no active audio/);
    expect(badSdp(TRUNK_OFFER.replace('RTP/AVP', 'TCP/MSRP')).message).toMatch(/unsupported audio transport/);
    expect(badSdp(TRUNK_OFFER.replace('c=IN IP4 127.0.0.1\r\n', '')).message).toMatch(/connection address/);
    expect(badSdp(TRUNK_OFFER.replace('RTP/AVP 0 8 101', 'RTP/AVP 0 8 300')).message).toMatch(/out of range/);
  });

  it('requires ICE credentials and a sha-256 fingerprint for webrtc', () => {
    const noFp = parseAudioSdp(CHROME_OFFER.replace(/a=fingerprint.*\r\n/, ''));
    expect(() => requireWebrtcAttributes(noFp)).toThrow(/fingerprint/);
    const noIce = parseAudioSdp(CHROME_OFFER.replace(/a=ice-pwd.*\r\n/, ''));
    expect(() => requireWebrtcAttributes(noIce)).toThrow(/ice-pwd/);
  });
});
