// Which way a digit goes (call/dtmf.ts): RFC 4733 toward a leg that negotiated telephone-event (in its SDP
// and ours to it), SIP INFO toward a trunks[].dtmf 'info' leg without it, else nowhere.
import { describe, expect, it } from 'vitest';
import { dtmfRoute, negotiatedTelephoneEvent } from '../../../gateway/call/dtmf.js';

const sdp = (te: boolean) =>
  ['v=0', 'o=x 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio 4000 RTP/AVP 0${te ? ' 101' : ''}`, 'a=rtpmap:0 PCMU/8000', ...(te ? ['a=rtpmap:101 telephone-event/8000'] : []), ''].join('\r\n');

describe('DTMF policy', () => {
  it('telephone-event counts only when both SDPs of the leg list it', () => {
    expect(negotiatedTelephoneEvent({ remoteSdp: sdp(true), localSdp: sdp(true) })).toBe(true);
    expect(negotiatedTelephoneEvent({ remoteSdp: sdp(true), localSdp: sdp(false) })).toBe(false);
    expect(negotiatedTelephoneEvent({ remoteSdp: sdp(false), localSdp: sdp(true) })).toBe(false);
    expect(negotiatedTelephoneEvent({ remoteSdp: 'garbage', localSdp: sdp(true) })).toBe(false);
  });

  it('RFC 4733 whenever the leg has telephone-event; INFO only for an info leg without it', () => {
    expect(dtmfRoute({ telephoneEvent: true, mode: 'rfc4733' })).toBe('rfc4733');
    expect(dtmfRoute({ telephoneEvent: true, mode: 'info' })).toBe('rfc4733');
    expect(dtmfRoute({ telephoneEvent: false, mode: 'info' })).toBe('info');
    expect(dtmfRoute({ telephoneEvent: false, mode: 'rfc4733' })).toBe('none');
  });
});
