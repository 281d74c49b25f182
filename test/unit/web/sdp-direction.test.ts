// The page's media-direction reader (web/sdp-direction.js): per-section directions, session-level
// defaults, the old c=0.0.0.0 hold, and a seeded mutation test (only SdpParseError ever escapes).
import { describe, expect, it } from 'vitest';
import { rng } from '../../support/rng.js';
import { isRemoteHold, mediaDirections, SdpParseError } from '../../../web/sdp-direction.js';

/** An offer as the gateway sends it toward the page: audio only, `extra` lines appended to the audio section. */
const offer = (audio: string[], session: string[] = [], c = '203.0.113.7') =>
  [
    'v=0',
    'o=- 1 2 IN IP4 203.0.113.7',
    's=-',
    `c=IN IP4 ${c}`,
    't=0 0',
    ...session,
    'm=audio 40000 UDP/TLS/RTP/SAVPF 111 0',
    'a=rtpmap:111 opus/48000/2',
    'a=sendrecv-ish:not-a-direction',
    ...audio,
  ].join('\r\n') + '\r\n';

describe('web/sdp-direction: mediaDirections', () => {
  it('reads each section’s own direction, else the session’s, else sendrecv (RFC 3264 §5.1)', () => {
    const sdp = [
      'v=0', 'o=- 1 1 IN IP4 203.0.113.7', 's=-', 'c=IN IP4 203.0.113.7', 't=0 0', 'a=recvonly',
      'm=audio 40000 RTP/AVP 0', 'a=sendonly',
      'm=audio 40002 RTP/AVP 0',
      'm=video 0 RTP/AVP 96', 'c=IN IP4 0.0.0.0', 'a=inactive',
    ].join('\n');
    expect(mediaDirections(sdp)).toEqual([
      { media: 'audio', port: 40000, direction: 'sendonly', address: '203.0.113.7' },
      { media: 'audio', port: 40002, direction: 'recvonly', address: '203.0.113.7' },
      { media: 'video', port: 0, direction: 'inactive', address: '0.0.0.0' },
    ]);
    expect(mediaDirections(offer([]))[0]!.direction).toBe('sendrecv');
  });

  it('a direction-looking word inside another attribute is not a direction', () => {
    // "a=sendonly" text inside a value (a substring test would see it) does not hold the call.
    expect(isRemoteHold(offer(['a=fmtp:111 note=a=sendonly']))).toBe(false);
    expect(isRemoteHold(offer(['a=label:inactive']))).toBe(false);
  });

  it('rejects text that is not a session description with SdpParseError', () => {
    for (const bad of ['', 'hello', 'v=1\r\n', 'v=0\r\nnot a line\r\n', 'v=0\r\nm=audio x RTP/AVP 0\r\n', 'v=0\r\nm=audio 70000 RTP/AVP 0\r\n', 'v=0\r\nc=IN IP4\r\n']) {
      expect(() => mediaDirections(bad), JSON.stringify(bad)).toThrow(SdpParseError);
    }
    expect(() => mediaDirections(undefined as unknown as string)).toThrow(SdpParseError);
  });
});

describe('web/sdp-direction: isRemoteHold (the other party’s offer)', () => {
  it('sendonly, inactive and c=0.0.0.0 hold us; sendrecv and recvonly do not (RFC 3264 §8.4)', () => {
    expect(isRemoteHold(offer(['a=sendonly']))).toBe(true);
    expect(isRemoteHold(offer(['a=inactive']))).toBe(true);
    expect(isRemoteHold(offer([], [], '0.0.0.0'))).toBe(true);
    expect(isRemoteHold(offer([], ['a=sendonly']))).toBe(true);
    expect(isRemoteHold(offer(['a=sendrecv']))).toBe(false);
    expect(isRemoteHold(offer(['a=recvonly']))).toBe(false);
    expect(isRemoteHold(offer([]))).toBe(false);
    // The section's own attribute wins over the session-level one.
    expect(isRemoteHold(offer(['a=sendrecv'], ['a=sendonly']))).toBe(false);
    expect(isRemoteHold(offer(['c=IN IP4 203.0.113.9'], [], '0.0.0.0'))).toBe(false);
  });

  it('only audio streams in use count: a rejected (port 0) stream is ignored; no audio is no hold', () => {
    const sdp = offer(['a=sendrecv']).replace('m=audio 40000', 'm=audio 0');
    expect(isRemoteHold(`${sdp}m=audio 40002 RTP/AVP 0\r\na=inactive\r\n`)).toBe(true);
    expect(isRemoteHold(sdp)).toBe(false);
  });
});

describe('web/sdp-direction: mutation test (seeded)', () => {
  function mutate(src: string, rand: () => number): string {
    const chars = [...src];
    const edits = 1 + Math.floor(rand() * 6);
    for (let i = 0; i < edits; i++) {
      const at = Math.floor(rand() * (chars.length + 1));
      const op = rand();
      const junk = String.fromCharCode(Math.floor(rand() * 128));
      if (op < 0.4) chars.splice(at, 1);
      else if (op < 0.7) chars.splice(at, 0, junk);
      else chars[at] = rand() < 0.5 ? '\n' : junk;
    }
    return chars.join('');
  }

  it('5000 mutated offers never throw anything but SdpParseError', () => {
    const rand = rng(7009);
    const base = offer(['a=sendonly', 'c=IN IP4 0.0.0.0/127'], ['a=inactive']);
    let parsed = 0;
    for (let i = 0; i < 5000; i++) {
      const input = mutate(base, rand);
      try {
        const held = isRemoteHold(input);
        expect(typeof held).toBe('boolean');
        parsed++;
      } catch (err) {
        expect(err, JSON.stringify(input)).toBeInstanceOf(SdpParseError);
      }
    }
    // The mutations must leave both outcomes reachable, or the test proves nothing.
    expect(parsed).toBeGreaterThan(100);
    expect(parsed).toBeLessThan(5000);
  });
});
