// Which kept party a transfer takes off hold (gateway/call/transfer-resume.ts heldByUs): the one whose last
// SDP from us does not receive (we held it), never one that holds us itself or is sendrecv already.
import { describe, expect, it } from 'vitest';
import { heldByUs } from '../../../gateway/call/transfer-resume.js';

const sdp = (dir: string, address = '127.0.0.1'): string =>
  ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', `c=IN IP4 ${address}`, 't=0 0', 'm=audio 4000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', `a=${dir}`, ''].join('\r\n');

describe('transfer-resume: heldByUs', () => {
  it('we held it (our sendonly/inactive, its recvonly/inactive): resume', () => {
    expect(heldByUs({ localSdp: sdp('sendonly'), remoteSdp: sdp('recvonly') })).toBe(true);
    expect(heldByUs({ localSdp: sdp('inactive'), remoteSdp: sdp('inactive') })).toBe(true);
    // RFC 2543 hold: c=0.0.0.0 with sendrecv means we do not receive
    expect(heldByUs({ localSdp: sdp('sendrecv', '0.0.0.0'), remoteSdp: sdp('recvonly') })).toBe(true);
  });

  it('it holds us, or nothing is held: leave it', () => {
    expect(heldByUs({ localSdp: sdp('recvonly'), remoteSdp: sdp('sendonly') })).toBe(false);
    expect(heldByUs({ localSdp: sdp('sendrecv'), remoteSdp: sdp('sendrecv') })).toBe(false);
    expect(heldByUs({ localSdp: '', remoteSdp: 'garbage' })).toBe(false);
  });
});
