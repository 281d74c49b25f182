import * as sdpTransform from 'sdp-transform';
import { describe, expect, it } from 'vitest';
import { dtlsRoleFor, produceAnswer, produceOffer, produceSelfAnswer, type LocalTransport } from '../../../gateway/media/sdp/convert.js';
import { parseAudioSdp } from '../../../gateway/media/sdp/model.js';
import { MediaError } from '../../../gateway/media/types.js';
import { CHROME_OFFER, TRUNK_ANSWER, TRUNK_OFFER } from './sdp-fixtures.js';

const G711 = ['PCMU', 'PCMA', 'telephone-event'];
const FP = 'AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99';

const rtpLocal: LocalTransport = { profile: 'rtp', address: '192.0.2.10', port: 20000, origin: { sessionId: '42', version: 1 } };
const webrtcLocal = (setup: 'actpass' | 'passive' | 'active'): LocalTransport => ({
  profile: 'webrtc',
  address: '192.0.2.10',
  port: 20011,
  origin: { sessionId: '43', version: 1 },
  webrtc: { iceUfrag: 'engU', icePwd: 'enginePasswordOf22chars', fingerprint: FP, setup, ssrc: 287454020, cname: 'engCname' },
});

describe('webrtc offer → rtp offer', () => {
  const browser = parseAudioSdp(CHROME_OFFER);
  const { sdp, codecs } = produceOffer(browser, rtpLocal, G711);
  const out = sdpTransform.parse(sdp);
  const m = out.media[0]!;

  it('keeps exactly PCMU, PCMA, telephone-event/8000 with the browser PT numbers', () => {
    expect(codecs.map((c) => [c.pt, c.name, c.rate])).toEqual([
      [0, 'PCMU', 8000],
      [8, 'PCMA', 8000],
      [126, 'telephone-event', 8000],
    ]);
    expect(m.payloads).toBe('0 8 126');
    expect(m.rtp.map((r) => `${r.payload} ${r.codec}/${r.rate}`)).toEqual(['0 PCMU/8000', '8 PCMA/8000', '126 telephone-event/8000']);
  });

  it('is plain RTP/AVP on our even port with ptime 20, c= our address, rtcp on port+1', () => {
    expect(out.media).toHaveLength(1);
    expect(m.protocol).toBe('RTP/AVP');
    expect(m.port).toBe(20000);
    expect(m.ptime).toBe(20);
    expect(m.rtcp?.port).toBe(20001);
    expect(out.connection?.ip).toBe('192.0.2.10');
    expect(m.direction).toBe('sendrecv');
  });

  it('carries none of the WebRTC attributes', () => {
    expect(sdp).not.toMatch(/ice-|fingerprint|setup|rtcp-mux|extmap|ssrc|candidate|BUNDLE|mid/);
  });

  it('mirrors the direction of the offer (hold)', () => {
    const held = parseAudioSdp(CHROME_OFFER.replace('a=sendrecv', 'a=sendonly'));
    expect(sdpTransform.parse(produceOffer(held, rtpLocal, G711).sdp).media[0]!.direction).toBe('sendonly');
  });

  it('rejects an offer without G.711 with no-common-codec', () => {
    const opusOnly = CHROME_OFFER.replace('m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126', 'm=audio 9 UDP/TLS/RTP/SAVPF 111 63 110')
      .split('\r\n')
      .filter((l) => !/rtpmap:(9|0|8|13|126) /.test(l))
      .join('\r\n');
    const err = (() => {
      try {
        produceOffer(parseAudioSdp(opusOnly), rtpLocal, G711);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(MediaError);
    expect((err as MediaError).code).toBe('no-common-codec');
  });
});

describe('rtp answer → webrtc answer', () => {
  const browser = parseAudioSdp(CHROME_OFFER);
  const sent = produceOffer(browser, rtpLocal, G711).codecs;
  const { sdp, match } = produceAnswer(browser, sent, parseAudioSdp(TRUNK_ANSWER), webrtcLocal('passive'));
  const out = sdpTransform.parse(sdp);
  const m = out.media[0]!;

  it('has session-level a=ice-lite and BUNDLE with the offer mid', () => {
    expect(out.icelite).toBe('ice-lite');
    expect(sdp.indexOf('a=ice-lite')).toBeLessThan(sdp.indexOf('m=audio'));
    expect(out.groups?.map((g) => `${g.type} ${g.mids}`)).toEqual(['BUNDLE 0']);
    expect(String(m.mid)).toBe('0');
  });

  it('has ICE credentials, fingerprint, setup:passive, rtcp-mux, one host candidate', () => {
    expect(m.protocol).toBe('UDP/TLS/RTP/SAVPF');
    expect(m.port).toBe(20011);
    expect(m.iceUfrag).toBe('engU');
    expect(m.icePwd).toBe('enginePasswordOf22chars');
    expect(m.fingerprint).toEqual({ type: 'sha-256', hash: FP });
    expect(m.setup).toBe('passive');
    expect(m.rtcpMux).toBe('rtcp-mux');
    expect(sdp).toContain('a=candidate:1 1 udp 2130706431 192.0.2.10 20011 typ host');
    expect(m.endOfCandidates).toBe('end-of-candidates');
    expect(m.ssrcs?.find((x) => x.attribute === 'cname')).toMatchObject({ id: 287454020, value: 'engCname' });
  });

  it('lists only the codecs the trunk answered, with the browser numbers', () => {
    expect(m.payloads).toBe('8 126');
    expect(m.fmtp).toEqual([{ payload: 126, config: '0-15' }]);
    expect(match.answerToOffer.size).toBe(0);
  });

  it('takes the direction from the trunk answer', () => {
    const answer = parseAudioSdp(TRUNK_ANSWER.replace('a=sendrecv', 'a=recvonly'));
    const r = produceAnswer(browser, sent, answer, webrtcLocal('passive'));
    expect(sdpTransform.parse(r.sdp).media[0]!.direction).toBe('recvonly');
  });

  it('maps payload types the trunk renumbered', () => {
    const answer = parseAudioSdp(TRUNK_ANSWER.replace('RTP/AVP 8 126', 'RTP/AVP 8 101').replace(/:126 /g, ':101 '));
    const r = produceAnswer(browser, sent, answer, webrtcLocal('passive'));
    expect([...r.match.answerToOffer]).toEqual([[101, 126]]);
    expect(sdpTransform.parse(r.sdp).media[0]!.payloads).toBe('8 126');
  });

  it('an answer with no offered codec is no-common-codec', () => {
    const answer = parseAudioSdp(TRUNK_ANSWER.replace('RTP/AVP 8 126', 'RTP/AVP 18').replace(/a=rtpmap.*\r\n/g, '').replace(/a=fmtp.*\r\n/, ''));
    expect(() => produceAnswer(browser, sent, answer, webrtcLocal('passive'))).toThrow(
      expect.objectContaining({ code: 'no-common-codec' }),
    );
  });

  it('answers other m-lines of the offer with port 0, keeping their position', () => {
    const withVideo = `${CHROME_OFFER}m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=rtpmap:96 VP8/90000\r\n`;
    const offer = parseAudioSdp(withVideo);
    const r = produceAnswer(offer, sent, parseAudioSdp(TRUNK_ANSWER), webrtcLocal('passive'));
    const media = sdpTransform.parse(r.sdp).media;
    expect(media.map((x) => [x.type, x.port])).toEqual([
      ['audio', 20011],
      ['video', 0],
    ]);
    expect(String(media[1]!.mid)).toBe('1');
    expect(sdpTransform.parse(r.sdp).groups?.map((g) => `${g.type} ${g.mids}`)).toEqual(['BUNDLE 0']);
  });
});

describe('rtp offer → webrtc offer, webrtc answer → rtp answer (inbound call)', () => {
  const trunk = parseAudioSdp(TRUNK_OFFER);
  const offer = produceOffer(trunk, webrtcLocal('actpass'));
  const out = sdpTransform.parse(offer.sdp);

  it('offers actpass, ice-lite, candidate, rtcp-mux, mid 0, BUNDLE with the trunk PT numbers', () => {
    expect(out.icelite).toBe('ice-lite');
    expect(out.groups?.map((g) => `${g.type} ${g.mids}`)).toEqual(['BUNDLE 0']);
    const m = out.media[0]!;
    expect(m.setup).toBe('actpass');
    expect(String(m.mid)).toBe('0');
    expect(m.rtcpMux).toBe('rtcp-mux');
    expect(m.candidates).toHaveLength(1);
    expect(m.payloads).toBe('0 8 101');
  });

  it('turns the browser answer into an RTP/AVP answer on the trunk leg', () => {
    const browserAnswer = CHROME_OFFER.replace('a=setup:actpass', 'a=setup:active')
      .replace('UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126', 'UDP/TLS/RTP/SAVPF 0 126')
      .split('\r\n')
      .filter((l) => !/rtpmap:(111|63|9|8|13|110) |fmtp:(111|63)/.test(l))
      .join('\r\n');
    const answer = parseAudioSdp(browserAnswer);
    expect(answer.setup).toBe('active');
    const r = produceAnswer(trunk, offer.codecs, answer, rtpLocal);
    const m = sdpTransform.parse(r.sdp).media[0]!;
    expect(m.protocol).toBe('RTP/AVP');
    expect(m.payloads).toBe('0 101');
    expect(m.rtp.map((x) => `${x.payload} ${x.codec}`)).toEqual(['0 PCMU', '101 telephone-event']);
    expect(m.port).toBe(20000);
    // the browser numbered telephone-event 126; the relay maps it back to the trunk's 101
    expect([...r.match.answerToOffer]).toEqual([[126, 101]]);
  });
});

describe('self answer (echo) and DTLS roles', () => {
  it('answers a Chrome offer with itself, webrtc profile, only allowed codecs', () => {
    const sdp = produceSelfAnswer(parseAudioSdp(CHROME_OFFER), webrtcLocal('passive'), G711);
    const m = sdpTransform.parse(sdp).media[0]!;
    expect(m.payloads).toBe('0 8 126');
    expect(m.setup).toBe('passive');
  });

  it('reverses sendonly to recvonly in an answer', () => {
    const held = parseAudioSdp(TRUNK_OFFER.replace('a=sendrecv', 'a=sendonly'));
    expect(sdpTransform.parse(produceSelfAnswer(held, rtpLocal)).media[0]!.direction).toBe('recvonly');
  });

  it('picks the DTLS role opposite to the peer a=setup (RFC 4145/5763)', () => {
    expect(dtlsRoleFor('actpass', true)).toBe('server');
    expect(dtlsRoleFor('active', false)).toBe('server');
    expect(dtlsRoleFor('passive', false)).toBe('client');
    expect(dtlsRoleFor(undefined, false)).toBe('server');
  });
});
