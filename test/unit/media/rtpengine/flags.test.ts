import { describe, expect, it } from 'vitest';
import { mediaErrorCodeOf } from '../../../../gateway/media/rtpengine/ng-client.js';
import { answerCommand, deleteCommand, ECHO_TAG, echoAnswerCommand, echoOfferCommand, offerCommand } from '../../../../gateway/media/rtpengine/flags.js';

describe('rtpengine ng commands', () => {
  it('asks for plain RTP/AVP without ICE, DTLS or rtcp-mux toward an RTP peer, keeping only the codecs', () => {
    expect(offerCommand({ callId: 'c', fromTag: 'f', sdp: 'S', toProfile: 'rtp', codecs: ['PCMU', 'PCMA', 'telephone-event'] })).toEqual({
      command: 'offer',
      'call-id': 'c',
      'from-tag': 'f',
      sdp: 'S',
      replace: ['origin', 'session-connection'],
      'transport-protocol': 'RTP/AVP',
      ICE: 'remove',
      DTLS: 'off',
      SDES: ['off'],
      'rtcp-mux': ['demux'],
      'ICE-lite': 'backward',
      codec: { strip: ['all'], except: ['PCMU', 'PCMA', 'telephone-event'] },
      flags: ['strict-source'],
      'endpoint-learning': 'heuristic',
    });
  });

  it('media.strictSource: strict source + heuristic learning (default), media handover when off; received from the SIP source', () => {
    const offer = { callId: 'c', fromTag: 'f', sdp: 'S', toProfile: 'rtp' as const, peerAddress: '192.0.2.20' };
    expect(offerCommand(offer)).toMatchObject({ flags: ['strict-source'], 'endpoint-learning': 'heuristic', 'received-from': ['IP4', '192.0.2.20'] });
    const loose = offerCommand(offer, false);
    expect(loose).toMatchObject({ flags: ['media-handover'], 'received-from': ['IP4', '192.0.2.20'] });
    expect(loose).not.toHaveProperty('endpoint-learning');
    const answer = answerCommand({ callId: 'c', fromTag: 'f', toTag: 't', sdp: 'A', peerAddress: '2001:db8::7' });
    expect(answer).toMatchObject({ flags: ['strict-source'], 'received-from': ['IP6', '2001:db8::7'] });
    expect(answerCommand({ callId: 'c', fromTag: 'f', toTag: 't', sdp: 'A' })).not.toHaveProperty('received-from');
    expect(echoOfferCommand({ callId: 'c', fromTag: 'f', sdp: 'S' }, false)).toMatchObject({ flags: ['media-handover'] });
    expect(echoAnswerCommand({ callId: 'c', fromTag: 'f', sdp: 'S' }, 'P', false)).toMatchObject({ flags: ['media-handover'] });
  });

  it('asks for ICE-lite, DTLS passive, rtcp-mux and no SDES toward a browser; no codec flags without codecs', () => {
    const cmd = offerCommand({ callId: 'c', fromTag: 'f', sdp: 'S', toProfile: 'webrtc' });
    expect(cmd).toMatchObject({
      'transport-protocol': 'UDP/TLS/RTP/SAVPF',
      ICE: 'force',
      'ICE-lite': 'forward',
      DTLS: 'passive',
      'rtcp-mux': ['offer'],
      SDES: ['off'],
    });
    expect(cmd).not.toHaveProperty('codec');
  });

  it('answers with both tags; deletes by call-id', () => {
    expect(answerCommand({ callId: 'c', fromTag: 'f', toTag: 't', sdp: 'A' })).toMatchObject({ command: 'answer', 'call-id': 'c', 'from-tag': 'f', 'to-tag': 't', sdp: 'A' });
    expect(deleteCommand('c')).toEqual({ command: 'delete', 'call-id': 'c' });
  });

  it('echo: an RTP offer with media-echo backwards, answered by rtpengine\'s own SDP', () => {
    const request = { callId: 'c', fromTag: 'f', sdp: 'S', codecs: ['PCMU'] };
    expect(echoOfferCommand(request)).toMatchObject({ command: 'offer', 'media-echo': 'backwards', 'transport-protocol': 'RTP/AVP', codec: { except: ['PCMU'] } });
    expect(echoAnswerCommand(request, 'P')).toMatchObject({ command: 'answer', 'from-tag': 'f', 'to-tag': ECHO_TAG, sdp: 'P' });
  });

  it('maps ng error reasons to MediaError codes', () => {
    expect(mediaErrorCodeOf('Unknown call-id')).toBe('unknown-call');
    expect(mediaErrorCodeOf('Parallel session limit reached')).toBe('no-ports');
    expect(mediaErrorCodeOf('Failed to parse SDP')).toBe('bad-sdp');
  });
});
