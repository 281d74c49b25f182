import { describe, expect, it } from 'vitest';
import { CODECS, R_DEFAULT, delayImpairment, estimateMos, lossImpairment, mosFromR, mosGrade, oneWayDelayMs } from '../../../web/mos.js';

describe('web/mos: ITU-T G.107 E-model, simplified', () => {
  it('MOS from R (G.107 Annex B eq. B-4) at the G.109 category limits and the default R', () => {
    // G.107: the default parameters give R = 93.2, MOS 4.41.
    expect(mosFromR(R_DEFAULT)).toBeCloseTo(4.41, 2);
    // G.109 Table 1 / G.107 Figure B.1: R 90 → 4.34, 80 → 4.02, 70 → 3.60, 60 → 3.10, 50 → 2.58.
    expect(mosFromR(90)).toBeCloseTo(4.34, 2);
    expect(mosFromR(80)).toBeCloseTo(4.024, 3); // G.109 rounds it up to 4.03
    expect(mosFromR(70)).toBeCloseTo(3.6, 2);
    expect(mosFromR(60)).toBeCloseTo(3.1, 2);
    expect(mosFromR(50)).toBeCloseTo(2.58, 2);
    expect(mosFromR(-5)).toBe(1);
    expect(mosFromR(0)).toBe(1);
    expect(mosFromR(100)).toBe(4.5);
    expect(mosFromR(Number.NaN)).toBe(1);
  });

  it('delay impairment Id: 0.024·d below 177.3 ms, + 0.11·(d − 177.3) above', () => {
    expect(delayImpairment(0)).toBe(0);
    expect(delayImpairment(100)).toBeCloseTo(2.4, 6);
    expect(delayImpairment(177.3)).toBeCloseTo(4.2552, 4);
    expect(delayImpairment(300)).toBeCloseTo(0.024 * 300 + 0.11 * 122.7, 6); // 20.697
    expect(delayImpairment(-10)).toBe(0);
  });

  it('loss impairment Ie_eff (G.107 eq. 7-29) for G.711 with PLC (Ie 0, Bpl 25.1, G.113 Appendix I)', () => {
    expect(lossImpairment(0, CODECS.PCMU)).toBe(0);
    // 95 · 1 / (1 + 25.1) = 3.64; 95 · 10 / 35.1 = 27.07; 95 · 100 / 125.1 = 75.94
    expect(lossImpairment(1, CODECS.PCMU)).toBeCloseTo(3.64, 2);
    expect(lossImpairment(10, CODECS.PCMU)).toBeCloseTo(27.07, 2);
    expect(lossImpairment(100, CODECS.PCMU)).toBeCloseTo(75.94, 2);
    // bursty loss (BurstR 2) impairs more than random loss
    expect(lossImpairment(10, CODECS.PCMU, 2)).toBeGreaterThan(lossImpairment(10, CODECS.PCMU));
    // a codec with its own impairment: G.729A, Ie 11
    expect(lossImpairment(0, CODECS.G729)).toBe(11);
  });

  it('one-way delay: RTT/2 + jitter buffer (else 2 × jitter) + 20 ms packetisation', () => {
    expect(oneWayDelayMs({ rttMs: 100, jitterBufferMs: 40 })).toBe(110);
    expect(oneWayDelayMs({ rttMs: 100, jitterMs: 15 })).toBe(100);
    expect(oneWayDelayMs({})).toBe(20);
  });

  it('estimates: a clean LAN call is good, 10 % loss is poor, 5 % with a long delay is bad', () => {
    const clean = estimateMos({ lossPercent: 0, rttMs: 2, jitterMs: 1, jitterBufferMs: 20, codec: 'PCMU' });
    expect(clean.r).toBeCloseTo(93.2 - 0.024 * 41, 2); // d = 1 + 20 + 20
    expect(clean.mos).toBeCloseTo(4.39, 2);
    expect(mosGrade(clean.mos)).toBe('good');
    const lossy = estimateMos({ lossPercent: 10, rttMs: 2, jitterBufferMs: 20, codec: 'PCMU' });
    expect(lossy.r).toBeCloseTo(93.2 - 0.024 * 41 - 27.07, 1); // 65.15
    expect(lossy.mos).toBeCloseTo(3.36, 1);
    expect(mosGrade(lossy.mos)).toBe('poor');
    const far = estimateMos({ lossPercent: 5, rttMs: 600, jitterBufferMs: 60, codec: 'PCMA' });
    expect(mosGrade(far.mos)).toBe('bad');
    // an unknown codec (opus) uses G.711's figures
    expect(estimateMos({ lossPercent: 10, rttMs: 2, jitterBufferMs: 20, codec: 'opus' })).toEqual(lossy);
  });

  it('grades by the G.109 categories', () => {
    expect(mosGrade(4.4)).toBe('good');
    expect(mosGrade(3.8)).toBe('fair');
    expect(mosGrade(3.2)).toBe('poor');
    expect(mosGrade(2.5)).toBe('bad');
  });
});
