// ICE-TCP candidates in what the engine writes for a browser (RFC 6544 §4.5 passive host candidate,
// §4.2 priority): present with the UDP one and ranked below it when the leg listens on TCP, absent
// otherwise.
import * as sdpTransform from 'sdp-transform';
import { describe, expect, it } from 'vitest';
import { TCP_PASSIVE_HOST_PRIORITY, UDP_HOST_PRIORITY } from '../../../gateway/media/sdp/build.js';
import { produceOffer, produceSelfAnswer, type LocalTransport } from '../../../gateway/media/sdp/convert.js';
import { parseAudioSdp } from '../../../gateway/media/sdp/model.js';
import { CHROME_OFFER, TRUNK_OFFER } from './sdp-fixtures.js';

const FP = 'AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99';

function browserSide(iceTcp: boolean | undefined): LocalTransport {
  return {
    profile: 'webrtc',
    address: '203.0.113.10',
    port: 40002,
    origin: { sessionId: '7', version: 1 },
    webrtc: { iceUfrag: 'engU', icePwd: 'enginePasswordOf22chars', fingerprint: FP, setup: 'actpass', ssrc: 1234, cname: 'c', ...(iceTcp === undefined ? {} : { iceTcp }) },
  };
}

const candidatesOf = (sdp: string) => sdpTransform.parse(sdp).media[0]!.candidates ?? [];

describe('ICE-TCP candidates in the SDP for a browser', () => {
  it('offer to a browser (trunk → browser): a UDP and a passive TCP host candidate on the same address and port', () => {
    const { sdp } = produceOffer(parseAudioSdp(TRUNK_OFFER), browserSide(true));
    const [udp, tcp, ...rest] = candidatesOf(sdp);
    expect(rest).toEqual([]);
    expect(udp).toMatchObject({ transport: 'udp', type: 'host', ip: '203.0.113.10', port: 40002, component: 1, priority: 2130706431 });
    expect(tcp).toMatchObject({ transport: 'tcp', type: 'host', tcptype: 'passive', ip: '203.0.113.10', port: 40002, component: 1 });
    // RFC 8445 §5.1.1.3: another transport, another foundation.
    expect(tcp!.foundation).not.toBe(udp!.foundation);
    expect(sdp).toContain(`a=candidate:${tcp!.foundation} 1 tcp ${TCP_PASSIVE_HOST_PRIORITY} 203.0.113.10 40002 typ host tcptype passive`);
  });

  it('priority: host type preference 126, local preference 2^13·4 + 8191 (passive, one address), below UDP', () => {
    expect(TCP_PASSIVE_HOST_PRIORITY).toBe(126 * 2 ** 24 + (4 * 8192 + 8191) * 256 + 255);
    expect(TCP_PASSIVE_HOST_PRIORITY).toBe(2124414975);
    expect(UDP_HOST_PRIORITY).toBe(2130706431);
    expect(TCP_PASSIVE_HOST_PRIORITY).toBeLessThan(UDP_HOST_PRIORITY);
    // Still a host candidate: above any server-reflexive (100) or relayed (0) type preference.
    expect(Math.floor(TCP_PASSIVE_HOST_PRIORITY / 2 ** 24)).toBe(126);
  });

  it('answer to a browser offer (echo) carries it too, and end-of-candidates follows both', () => {
    const sdp = produceSelfAnswer(parseAudioSdp(CHROME_OFFER), browserSide(true));
    expect(candidatesOf(sdp).map((c) => c.transport)).toEqual(['udp', 'tcp']);
    expect(sdp.indexOf('a=end-of-candidates')).toBeGreaterThan(sdp.indexOf('tcptype passive'));
  });

  it('absent when the leg does not listen on TCP (media.iceTcp false)', () => {
    for (const iceTcp of [false, undefined]) {
      const { sdp } = produceOffer(parseAudioSdp(TRUNK_OFFER), browserSide(iceTcp));
      expect(candidatesOf(sdp).map((c) => c.transport)).toEqual(['udp']);
      expect(sdp).not.toMatch(/tcptype|\btcp\b/);
    }
  });
});
