// Errors across the worker boundary (gateway/media/workers/protocol.ts): a MediaError keeps its class, code
// and message (the call layer maps the code: 488 / 503 / 481); other errors stay plain Errors.
import { describe, expect, it } from 'vitest';
import { MediaError } from '../../../../gateway/media/types.js';
import { fromWire, keysOf, toWire } from '../../../../gateway/media/workers/protocol.js';

const across = (err: unknown) => fromWire(structuredClone(toWire(err)));

describe('media worker protocol', () => {
  it('a MediaError comes back as a MediaError with its code and message', () => {
    for (const code of ['no-common-codec', 'bad-sdp', 'no-ports', 'unknown-call'] as const) {
      const back = across(new MediaError(code, `because ${code}`));
      expect(back).toBeInstanceOf(MediaError);
      expect((back as MediaError).code).toBe(code);
      expect(back.message).toBe(`because ${code}`);
    }
  });

  it('any other error comes back as an Error (not a MediaError) with its name and message', () => {
    const back = across(new TypeError('boom'));
    expect(back).not.toBeInstanceOf(MediaError);
    expect([back.name, back.message]).toEqual(['TypeError', 'boom']);
    expect(across('text').message).toBe('text');
  });

  it('names the keys an operation touches (their figures go with the reply)', () => {
    expect(keysOf('delete', 'k1')).toEqual(['k1']);
    expect(keysOf('offer', { callId: 'k2' })).toEqual(['k2']);
    expect(keysOf('splice', { a: { callId: 'a', tag: 'x' }, b: { callId: 'b', tag: 'y' } })).toEqual(['a', 'b']);
    expect(keysOf('rollback', {})).toEqual([]);
  });
});
