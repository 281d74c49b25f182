// rtpengine's DTMF commands (media/rtpengine/flags.ts): ng `inject DTMF` only when
// media.rtpengineInjectDtmf asks for it (it makes rtpengine re-encode audio), and the `play DTMF` dictionary.
import { describe, expect, it } from 'vitest';
import { answerCommand, INJECT_DTMF, offerCommand, playDtmfCommand } from '../../../gateway/media/rtpengine/flags.js';

const offer = { callId: 'c1', fromTag: 'a', sdp: 'v=0', toProfile: 'rtp' as const };
const answer = { callId: 'c1', fromTag: 'a', toTag: 'b', sdp: 'v=0' };

describe('rtpengine DTMF flags', () => {
  it('inject-DTMF rides offers and answers only when asked for, beside the source flags', () => {
    expect(offerCommand(offer).flags).toEqual(['strict-source']);
    expect(offerCommand(offer, true, true).flags).toEqual(['strict-source', INJECT_DTMF]);
    expect(answerCommand(answer, false, true).flags).toEqual(['media-handover', INJECT_DTMF]);
    expect(answerCommand(answer, true).flags).toEqual(['strict-source']);
  });

  it('play DTMF names the call, the party whose stream carries it, the digit and the duration', () => {
    expect(playDtmfCommand('c1', 'a', '#', 160)).toEqual({ command: 'play DTMF', 'call-id': 'c1', 'from-tag': 'a', code: '#', duration: 160 });
  });
});
