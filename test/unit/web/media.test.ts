import { describe, expect, it } from 'vitest';
import { rtpCounts, toneLevelFromSpectrum } from '../../../web/media.js';

/** A 2048-bin dB spectrum at 48 kHz: flat noise at `noiseDb`, one bin raised to `peakDb`. */
function spectrum(noiseDb: number, peakHz?: number, peakDb = 0): Float32Array {
  const bins = new Float32Array(2048).fill(noiseDb);
  if (peakHz !== undefined) bins[Math.round(peakHz / (24000 / 2048))] = peakDb;
  return bins;
}

describe('web/media: toneLevelFromSpectrum', () => {
  it('is ≫ 1 at the tone and < 1 elsewhere', () => {
    const s = spectrum(-80, 1000, -10);
    expect(toneLevelFromSpectrum(s, 48000, 1000)).toBeGreaterThan(100);
    expect(toneLevelFromSpectrum(s, 48000, 3300)).toBeLessThan(1);
  });

  it('is 1 for flat noise and 0 for silence or a nonsense frequency', () => {
    expect(toneLevelFromSpectrum(spectrum(-60), 48000, 1000)).toBeCloseTo(1, 5);
    expect(toneLevelFromSpectrum(spectrum(-Infinity), 48000, 1000)).toBe(0);
    expect(toneLevelFromSpectrum(spectrum(-60, 1000), 48000, 30000)).toBe(0);
    expect(toneLevelFromSpectrum(spectrum(-60, 1000), 48000, -1)).toBe(0);
    expect(toneLevelFromSpectrum([], 48000, 1000)).toBe(0);
  });

  it('tolerates a tone one bin off the nominal frequency', () => {
    const s = spectrum(-80);
    s[Math.round(1000 / (24000 / 2048)) + 1] = -10;
    expect(toneLevelFromSpectrum(s, 48000, 1000)).toBeGreaterThan(100);
  });
});

describe('web/media: rtpCounts', () => {
  const pc = (stats: object[], connectionState = 'connected') => ({
    connectionState,
    getStats: async () => new Map(stats.map((s, i) => [String(i), s])),
  });

  it('sums audio inbound-rtp packetsReceived and outbound-rtp packetsSent only', async () => {
    const c = await rtpCounts(
      pc([
        { type: 'inbound-rtp', kind: 'audio', packetsReceived: 120 },
        { type: 'outbound-rtp', kind: 'audio', packetsSent: 150 },
        { type: 'inbound-rtp', kind: 'video', packetsReceived: 999 },
        { type: 'remote-inbound-rtp', kind: 'audio', packetsLost: 3 },
      ]),
    );
    expect(c).toEqual({ packetsReceived: 120, packetsSent: 150 });
  });

  it('is zero without a peer connection or once it is closed', async () => {
    expect(await rtpCounts(null)).toEqual({ packetsReceived: 0, packetsSent: 0 });
    const closed = pc([{ type: 'inbound-rtp', kind: 'audio', packetsReceived: 5 }], 'closed');
    expect(await rtpCounts(closed)).toEqual({ packetsReceived: 0, packetsSent: 0 });
  });
});
