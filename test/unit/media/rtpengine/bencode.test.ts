import { describe, expect, it } from 'vitest';
import { bdecode, bencode, BencodeError } from '../../../../gateway/media/rtpengine/bencode.js';
import { parseNgReply } from '../../../../gateway/media/rtpengine/ng-client.js';

describe('bencode', () => {
  it('encodes BEP 3 forms with dictionary keys sorted as raw strings', () => {
    expect(bencode({ sdp: 'v=0', command: 'offer', 'rtcp-mux': ['demux'], n: -3 }).toString())
      .toBe('d7:command5:offer1:ni-3e8:rtcp-muxl5:demuxe3:sdp3:v=0e');
    expect(bencode('é').toString('latin1')).toBe('2:\xc3\xa9'); // the length counts bytes, not characters
  });

  it('round-trips nested values', () => {
    const value = { command: 'offer', codec: { strip: ['all'], except: ['PCMU', 'telephone-event'] }, n: 0, empty: '', list: [] };
    expect(bdecode(bencode(value))).toEqual(value);
  });

  it('decodes an rtpengine-style reply', () => {
    const reply = Buffer.from('5a1b2c d3:sdp10:v=0\r\no=x 16:result2:oke');
    expect(parseNgReply(reply)).toEqual({ cookie: '5a1b2c', reply: { sdp: 'v=0\r\no=x 1', result: 'ok' } });
    const error = Buffer.from('c d12:error-reason15:Unknown call-id6:result5:errore');
    expect(parseNgReply(error)?.reply).toEqual({ 'error-reason': 'Unknown call-id', result: 'error' });
  });

  it.each([
    ['empty', ''],
    ['unterminated integer', 'i12'],
    ['bad integer', 'i1x2e'],
    ['leading zero', 'i03e'],
    ['string past the end', '10:abc'],
    ['unterminated list', 'l1:a'],
    ['unterminated dict', 'd1:a1:b'],
    ['non-string key', 'di1e1:ae'],
    ['trailing bytes', 'i1ei2e'],
    ['unknown byte', 'x'],
    ['too deep', 'l'.repeat(100) + 'e'.repeat(100)],
  ])('rejects malformed input (%s) with a BencodeError', (_what, text) => {
    expect(() => bdecode(Buffer.from(text))).toThrow(BencodeError);
  });

  it('treats an unparseable ng datagram as no reply', () => {
    expect(parseNgReply(Buffer.from('nocookie'))).toBeUndefined();
    expect(parseNgReply(Buffer.from('c li1ee'))).toBeUndefined(); // a reply must be a dictionary
    expect(parseNgReply(Buffer.from('c d3:sdp'))).toBeUndefined();
  });

  it('keeps a "__proto__" key as data', () => {
    const dict = bdecode(Buffer.from('d9:__proto__1:xe')) as Record<string, unknown>;
    expect(Object.keys(dict)).toEqual(['__proto__']);
  });
});
