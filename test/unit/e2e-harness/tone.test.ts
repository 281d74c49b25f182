import { describe, expect, it } from 'vitest';
import { sineWav, toneRatio, wavSamples } from '../../support/tone.js';

describe('test/support/tone', () => {
  it('writes a canonical mono 16-bit PCM WAV of the asked length', () => {
    const wav = sineWav({ freqHz: 440, seconds: 0.5, sampleRate: 8000 });
    expect(wav.length).toBe(44 + 4000 * 2);
    expect(wav.toString('ascii', 0, 4)).toBe('RIFF');
    expect(wav.readUInt32LE(4)).toBe(wav.length - 8);
    expect(wav.toString('ascii', 8, 16)).toBe('WAVEfmt ');
    expect(wav.readUInt16LE(22)).toBe(1); // mono
    expect(wav.readUInt32LE(24)).toBe(8000);
    expect(wav.readUInt32LE(40)).toBe(8000);
  });

  it('holds the sine at the asked frequency and amplitude', () => {
    const { sampleRate, samples } = wavSamples(sineWav({ freqHz: 1000, seconds: 1, sampleRate: 48000, amplitude: 0.25 }));
    expect(sampleRate).toBe(48000);
    expect(Math.max(...samples)).toBeGreaterThanOrEqual(Math.round(0.25 * 32767) - 1);
    expect(Math.max(...samples)).toBeLessThanOrEqual(Math.round(0.25 * 32767));
    expect(toneRatio(samples, sampleRate, 1000)).toBeCloseTo(0.5, 2);
    expect(toneRatio(samples, sampleRate, 3300)).toBeLessThan(0.001);
  });

  it('rejects impossible tones with a reason', () => {
    expect(() => sineWav({ freqHz: 5000, seconds: 1, sampleRate: 8000 })).toThrow(/freqHz must lie in \(0, 4000\)/);
    expect(() => sineWav({ freqHz: 440, seconds: 0 })).toThrow(/seconds/);
    expect(() => sineWav({ freqHz: 440, seconds: 1, amplitude: 2 })).toThrow(/amplitude/);
    expect(() => wavSamples(Buffer.from('not a wav file at all, clearly not one at all....'))).toThrow(/RIFF/);
  });

  it('toneRatio is 0 for silence', () => {
    expect(toneRatio(new Int16Array(800), 8000, 440)).toBe(0);
    expect(toneRatio(new Int16Array(0), 8000, 440)).toBe(0);
  });
});
