// A transfer's outcome in people's words (web/words.js transferWords, shown by web/transfer-view.js): the
// sentence names what happened to the target, the SIP code only in the details line.
import { describe, expect, it } from 'vitest';
import { transferText } from '../../../web/transfer.js';
import { transferWords } from '../../../web/words.js';

const failed = (code: number, phrase = '') => ({ state: 'failed', code, text: transferText(code, phrase) });

describe('transferWords', () => {
  it('a failed target: people\'s words, "SIP <code> <reason>" as the details', () => {
    expect(transferWords(failed(404, 'Not Found'), '5559999')).toEqual({ text: 'Transfer failed: Number not in service', detail: 'SIP 404 No route' });
    expect(transferWords(failed(486, 'Busy Here'), '5559999')).toEqual({ text: 'Transfer failed: 5559999 is busy', detail: 'SIP 486 Busy' });
    expect(transferWords(failed(480, 'Temporarily Unavailable'), 'bob')).toEqual({ text: 'Transfer failed: Bob is offline', detail: 'SIP 480 Unavailable' });
    expect(transferWords(failed(403, 'Forbidden'), '0044201234567').text).toBe('Transfer failed: You are not allowed to call this number');
    expect(transferWords(failed(599, 'Odd'), '5559999')).toEqual({ text: 'Transfer failed: The call could not be placed', detail: 'SIP 599 Odd' });
  });

  it('a REFER the far end does not take at all: the call cannot be transferred', () => {
    expect(transferWords(failed(501, 'Not Implemented'), '5559999')).toEqual({ text: 'Transfer failed: This call cannot be transferred', detail: 'SIP 501 Not Implemented' });
    expect(transferWords(failed(405, 'Method Not Allowed'), '5559999').text).toBe('Transfer failed: This call cannot be transferred');
  });

  it('progress, success and failures without a code keep their text and no details line', () => {
    expect(transferWords({ state: 'trying', code: 180, text: 'Transferring… (ringing)' }, '5559999')).toEqual({ text: 'Transferring… (ringing)', detail: '' });
    expect(transferWords({ state: 'done', code: 200, text: 'Transferred' }, '5559999')).toEqual({ text: 'Transferred', detail: '' });
    expect(transferWords({ state: 'failed', code: 0, text: 'Transfer failed: No call to transfer' }, '')).toEqual({ text: 'Transfer failed: No call to transfer', detail: '' });
    // no SIP code ever reaches the sentence
    for (const code of [403, 404, 408, 480, 486, 487, 488, 500, 503, 603]) {
      const words = transferWords(failed(code), 'bob');
      expect(words.text, String(code)).not.toContain(String(code));
      expect(words.detail).toMatch(new RegExp(`^SIP ${code}\\b`));
    }
  });
});
