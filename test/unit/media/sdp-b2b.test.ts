// Browser-to-browser: the caller's Chrome offer becomes the engine's WebRTC offer to the callee's
// Chrome, whose answer becomes the engine's WebRTC answer to the caller. Both legs end at the engine.
import * as sdpTransform from 'sdp-transform';
import { describe, expect, it } from 'vitest';
import { dtlsRoleFor, produceAnswer, produceOffer, type LocalTransport } from '../../../gateway/media/sdp/convert.js';
import { parseAudioSdp, requireWebrtcAttributes } from '../../../gateway/media/sdp/model.js';
import { CHROME_ANSWER, CHROME_OFFER } from './sdp-fixtures.js';

const FP = 'AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99';
const G711 = ['PCMU', 'PCMA', 'telephone-event'];

function local(port: number, setup: 'actpass' | 'passive', ufrag: string, ssrc: number): LocalTransport {
  return {
    profile: 'webrtc',
    address: '192.0.2.10',
    port,
    origin: { sessionId: String(port), version: 1 },
    webrtc: { iceUfrag: ufrag, icePwd: `${ufrag}PasswordOf22charsXX`, fingerprint: FP, setup, ssrc, cname: `cname${port}` },
  };
}

const calleeLeg = local(20020, 'actpass', 'callee', 111111);
const callerLeg = local(20010, 'passive', 'caller', 222222);

/** The WebRTC essentials any browser SDP from the engine must carry. */
function expectWebrtcEssentials(sdp: string, leg: LocalTransport, setup: string): void {
  const out = sdpTransform.parse(sdp);
  const m = out.media[0]!;
  expect(out.icelite).toBe('ice-lite');
  expect(sdp.indexOf('a=ice-lite')).toBeLessThan(sdp.indexOf('m=audio'));
  expect(m.protocol).toBe('UDP/TLS/RTP/SAVPF');
  expect(m.port).toBe(leg.port);
  expect(m.iceUfrag).toBe(leg.webrtc!.iceUfrag);
  expect(m.icePwd).toBe(leg.webrtc!.icePwd);
  expect(m.fingerprint).toEqual({ type: 'sha-256', hash: FP });
  expect(m.setup).toBe(setup);
  expect(m.rtcpMux).toBe('rtcp-mux');
  expect(m.candidates).toEqual([
    expect.objectContaining({ ip: '192.0.2.10', port: leg.port, type: 'host', transport: 'udp', component: 1 }),
  ]);
  expect(out.groups?.map((g) => `${g.type} ${g.mids}`)).toEqual([`BUNDLE ${m.mid}`]);
  expect(m.ssrcs?.find((s) => s.attribute === 'cname')).toEqual({ id: leg.webrtc!.ssrc, attribute: 'cname', value: leg.webrtc!.cname });
  // and it parses back as a valid WebRTC description
  expect(() => requireWebrtcAttributes(parseAudioSdp(sdp))).not.toThrow();
}

describe('webrtc offer → webrtc offer (caller browser to callee browser)', () => {
  const caller = parseAudioSdp(CHROME_OFFER);

  it('is an actpass ICE-lite offer with our candidate, fingerprint, rtcp-mux, BUNDLE/mid 0 and a=ssrc', () => {
    const { sdp } = produceOffer(caller, calleeLeg);
    expectWebrtcEssentials(sdp, calleeLeg, 'actpass');
    expect(String(sdpTransform.parse(sdp).media[0]!.mid)).toBe('0');
  });

  it('carries none of the caller’s own transport: not its ICE credentials, fingerprint, ssrc or candidates', () => {
    const { sdp } = produceOffer(caller, calleeLeg);
    expect(sdp).not.toContain('Fq3x');
    expect(sdp).not.toContain('8Xd0w2vSmJYQ3e1hKzq9r5tA');
    expect(sdp).not.toContain('7B:8A:3F');
    expect(sdp).not.toContain('3735928559');
    expect(sdp).not.toMatch(/extmap|transport-cc|trickle/);
  });

  it('without a codec filter keeps every codec with the caller’s PT numbers and fmtp, so payloads pass unchanged', () => {
    const { sdp, codecs } = produceOffer(caller, calleeLeg);
    const m = sdpTransform.parse(sdp).media[0]!;
    expect(m.payloads).toBe('111 63 9 0 8 13 110 126');
    expect(codecs.map((c) => c.pt)).toEqual([111, 63, 9, 0, 8, 13, 110, 126]);
    expect(m.rtp.find((r) => r.payload === 111)).toMatchObject({ codec: 'opus', rate: 48000, encoding: 2 });
    expect(m.fmtp).toEqual(
      expect.arrayContaining([
        { payload: 111, config: 'minptime=10;useinbandfec=1' },
        { payload: 63, config: '111/111' },
      ]),
    );
  });

  it('with the G.711 filter keeps PCMU, PCMA and telephone-event/8000 only', () => {
    const { sdp } = produceOffer(caller, calleeLeg, G711);
    expect(sdpTransform.parse(sdp).media[0]!.payloads).toBe('0 8 126');
  });

  it('mirrors the caller’s direction (hold)', () => {
    const held = parseAudioSdp(CHROME_OFFER.replace('a=sendrecv', 'a=sendonly'));
    expect(sdpTransform.parse(produceOffer(held, calleeLeg).sdp).media[0]!.direction).toBe('sendonly');
  });
});

describe('webrtc answer → webrtc answer (callee browser back to the caller)', () => {
  const caller = parseAudioSdp(CHROME_OFFER);
  const offered = produceOffer(caller, calleeLeg);
  const callee = parseAudioSdp(CHROME_ANSWER);
  const { sdp, match } = produceAnswer(caller, offered.codecs, callee, callerLeg);

  it('is a passive ICE-lite answer with our candidate, fingerprint, rtcp-mux, the caller’s mid and a=ssrc', () => {
    expectWebrtcEssentials(sdp, callerLeg, 'passive');
    expect(String(sdpTransform.parse(sdp).media[0]!.mid)).toBe('0');
  });

  it('carries none of the callee’s transport', () => {
    expect(sdp).not.toContain('k7Qp');
    expect(sdp).not.toContain('3C:51:D9');
    expect(sdp).not.toContain('2882400001');
  });

  it('lists what the callee answered with the caller’s PT numbers: no renumbering needed', () => {
    expect(sdpTransform.parse(sdp).media[0]!.payloads).toBe('111 63 9 0 8 13 110 126');
    expect(match.answerToOffer.size).toBe(0);
  });

  it('leaves both legs as DTLS servers: the callee answered active, the caller offered actpass', () => {
    expect(callee.setup).toBe('active');
    expect(dtlsRoleFor(callee.setup, false)).toBe('server');
    expect(dtlsRoleFor(caller.setup, true)).toBe('server');
  });

  it('maps a PT the callee renumbered back to the caller’s number', () => {
    const renumbered = parseAudioSdp(
      CHROME_ANSWER.replace('111 63 9 0 8 13 110 126', '111 63 9 0 8 13 110 101').replace('a=rtpmap:126 ', 'a=rtpmap:101 '),
    );
    const r = produceAnswer(caller, offered.codecs, renumbered, callerLeg);
    expect([...r.match.answerToOffer]).toEqual([[101, 126]]);
    expect(sdpTransform.parse(r.sdp).media[0]!.payloads).toBe('111 63 9 0 8 13 110 126');
  });

  it('rejects the caller’s other m-lines with port 0 and keeps BUNDLE on the audio mid', () => {
    const withVideo = `${CHROME_OFFER}m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=rtpmap:96 VP8/90000\r\n`;
    const videoCaller = parseAudioSdp(withVideo);
    const sent = produceOffer(videoCaller, calleeLeg);
    expect(sdpTransform.parse(sent.sdp).media).toHaveLength(1);
    const r = produceAnswer(videoCaller, sent.codecs, callee, callerLeg);
    const out = sdpTransform.parse(r.sdp);
    expect(out.media.map((x) => [x.type, x.port, String(x.mid)])).toEqual([
      ['audio', 20010, '0'],
      ['video', 0, '1'],
    ]);
    expect(out.groups?.map((g) => `${g.type} ${g.mids}`)).toEqual(['BUNDLE 0']);
  });
});
