// Test tones as WAV files: Chromium's fake capture (--use-file-for-fake-audio-capture) and
// baresip's aufile source both read RIFF/WAVE mono 16-bit PCM.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ToneOptions {
  /** Sine frequency in Hz (must be below the Nyquist frequency sampleRate / 2). */
  freqHz: number;
  /** Length in seconds (> 0, at most 600). */
  seconds: number;
  /** 8000 or 48000 (default 48000). */
  sampleRate?: 8000 | 16000 | 48000;
  /** Peak amplitude as a fraction of full scale, 0 < a <= 1 (default 0.5). */
  amplitude?: number;
}

const HEADER_BYTES = 44;

function validate(opts: ToneOptions): Required<ToneOptions> {
  const sampleRate = opts.sampleRate ?? 48000;
  const amplitude = opts.amplitude ?? 0.5;
  if (!Number.isFinite(opts.freqHz) || opts.freqHz <= 0 || opts.freqHz >= sampleRate / 2) {
    throw new RangeError(`tone: freqHz must lie in (0, ${sampleRate / 2}), got ${opts.freqHz}`);
  }
  if (!Number.isFinite(opts.seconds) || opts.seconds <= 0 || opts.seconds > 600) {
    throw new RangeError(`tone: seconds must lie in (0, 600], got ${opts.seconds}`);
  }
  if (!(amplitude > 0 && amplitude <= 1)) {
    throw new RangeError(`tone: amplitude must lie in (0, 1], got ${amplitude}`);
  }
  return { freqHz: opts.freqHz, seconds: opts.seconds, sampleRate, amplitude };
}

/** A complete WAV file (RIFF header + PCM s16le mono samples) holding a sine tone. */
export function sineWav(opts: ToneOptions): Buffer {
  const { freqHz, seconds, sampleRate, amplitude } = validate(opts);
  const samples = Math.round(seconds * sampleRate);
  const dataBytes = samples * 2;
  const buf = Buffer.alloc(HEADER_BYTES + dataBytes);
  // RIFF/WAVE canonical header: "RIFF" size "WAVE" "fmt " 16 PCM(1) channels rate byteRate align bits "data" size
  buf.write('RIFF', 0, 'ascii');
  buf.writeUInt32LE(36 + dataBytes, 4);
  buf.write('WAVE', 8, 'ascii');
  buf.write('fmt ', 12, 'ascii');
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20); // PCM
  buf.writeUInt16LE(1, 22); // mono
  buf.writeUInt32LE(sampleRate, 24);
  buf.writeUInt32LE(sampleRate * 2, 28); // byte rate
  buf.writeUInt16LE(2, 32); // block align
  buf.writeUInt16LE(16, 34); // bits per sample
  buf.write('data', 36, 'ascii');
  buf.writeUInt32LE(dataBytes, 40);
  const peak = Math.round(amplitude * 32767);
  for (let i = 0; i < samples; i++) {
    const v = Math.round(peak * Math.sin((2 * Math.PI * freqHz * i) / sampleRate));
    buf.writeInt16LE(v, HEADER_BYTES + i * 2);
  }
  return buf;
}

/** Writes a sine WAV into `dir` (default: a fresh temp dir) and returns its path. */
export function writeSineWav(opts: ToneOptions, dir?: string): string {
  const target = dir ?? mkdtempSync(join(tmpdir(), 'tone-'));
  const path = join(target, `sine-${opts.freqHz}hz-${opts.sampleRate ?? 48000}.wav`);
  writeFileSync(path, sineWav(opts));
  return path;
}

/**
 * Goertzel power of `freqHz` in s16 samples, normalised by the signal energy: a pure tone at
 * freqHz gives ~0.5, silence or another frequency gives ~0. Used to check a tone end to end.
 */
export function toneRatio(samples: Int16Array, sampleRate: number, freqHz: number): number {
  const n = samples.length;
  if (n === 0) return 0;
  const k = Math.round((n * freqHz) / sampleRate);
  const w = (2 * Math.PI * k) / n;
  const coeff = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  let energy = 0;
  for (let i = 0; i < n; i++) {
    const x = samples[i]!;
    energy += x * x;
    const s0 = x + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  if (energy === 0) return 0;
  const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  return power / (energy * n);
}

/** The PCM samples of a mono s16 WAV produced by sineWav (or any canonical 44-byte-header WAV). */
export function wavSamples(wav: Buffer): { sampleRate: number; samples: Int16Array } {
  if (wav.length < HEADER_BYTES || wav.toString('ascii', 0, 4) !== 'RIFF' || wav.toString('ascii', 8, 12) !== 'WAVE') {
    throw new Error('wavSamples: not a RIFF/WAVE file');
  }
  if (wav.readUInt16LE(20) !== 1 || wav.readUInt16LE(34) !== 16) {
    throw new Error('wavSamples: only 16-bit PCM is supported');
  }
  const sampleRate = wav.readUInt32LE(24);
  const pcm = wav.subarray(HEADER_BYTES);
  const samples = new Int16Array(Math.floor(pcm.length / 2));
  for (let i = 0; i < samples.length; i++) samples[i] = pcm.readInt16LE(i * 2);
  return { sampleRate, samples };
}
