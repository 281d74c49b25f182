// The gateway's E-model (gateway/media/quality.ts) against known values, and against the page's own
// estimate (web/mos.js) so the two figures for one call can be compared.
import { describe, expect, it } from 'vitest';
import { delayImpairment, directionMos, estimateMos, lossImpairment, mosFromR, oneWayDelayMs, R_DEFAULT } from '../../../gateway/media/quality.js';
import * as web from '../../../web/mos.js';

const G711 = { ie: 0, bpl: 25.1 };

describe('E-model (ITU-T G.107, simplified)', () => {
  it('MOS from R per G.107 Annex B (B-4) at known points and its clamps', () => {
    expect(mosFromR(R_DEFAULT)).toBeCloseTo(4.4093, 4);
    expect(mosFromR(80)).toBeCloseTo(4.024, 6);
    expect(mosFromR(50)).toBeCloseTo(2.575, 6);
    expect(mosFromR(0)).toBe(1);
    expect(mosFromR(-12)).toBe(1);
    expect(mosFromR(100)).toBe(4.5);
    expect(mosFromR(Number.NaN)).toBe(1);
  });

  it('Ie_eff for G.711 with PLC (Bpl 25.1): 95·Ppl/(Ppl+25.1)', () => {
    expect(lossImpairment(0, G711)).toBe(0);
    expect(lossImpairment(2, G711)).toBeCloseTo(7.0111, 4);
    expect(lossImpairment(5, G711)).toBeCloseTo(15.7807, 4);
    expect(lossImpairment(100, G711)).toBeCloseTo(75.9392, 4);
    expect(lossImpairment(250, G711)).toBe(lossImpairment(100, G711));
    expect(lossImpairment(5, { ie: 11, bpl: 19 })).toBeCloseTo(11 + (84 * 5) / 24, 6);
  });

  it('Id: 0.024·d below 177.3 ms, plus 0.11·(d − 177.3) above', () => {
    expect(delayImpairment(100)).toBeCloseTo(2.4, 6);
    expect(delayImpairment(200)).toBeCloseTo(7.297, 6);
    expect(delayImpairment(-5)).toBe(0);
  });

  it('no loss, no delay but one packet: R 92.72, MOS 4.40; 5 % loss: MOS about 3.7', () => {
    expect(oneWayDelayMs(null, null)).toBe(20);
    expect(estimateMos({ lossPercent: 0 })).toEqual({ r: 92.72, mos: 4.4 });
    const lossy = estimateMos({ lossPercent: 5, codec: 'PCMA' });
    expect(lossy.r).toBeCloseTo(92.72 - 15.7807, 2);
    expect(lossy.mos).toBeCloseTo(3.9, 1);
    expect(estimateMos({ lossPercent: 0, rttMs: 400, jitterMs: 30 }).r).toBeCloseTo(R_DEFAULT - (0.024 * 280 + 0.11 * (280 - 177.3)), 2);
  });

  it('gives the same R and MOS as the page (web/mos.js) over a grid of loss, round trip, jitter and codec', () => {
    for (const codec of ['PCMU', 'PCMA', 'G722', 'G729', 'unknown']) {
      for (const lossPercent of [0, 0.5, 1, 3, 5, 10, 30]) {
        for (const rttMs of [0, 50, 150, 400, 900]) {
          for (const jitterMs of [0, 5, 40]) {
            expect(estimateMos({ lossPercent, rttMs, jitterMs, codec })).toEqual(web.estimateMos({ lossPercent, rttMs, jitterMs, codec }));
          }
        }
      }
    }
  });

  it('a direction without loss figures has no MOS; negative loss (duplicates) counts as none', () => {
    const none = { packets: 3, expected: null, lost: null, lossPercent: null, intervalLossPercent: null, jitterMs: null };
    expect(directionMos(none, 10)).toBeNull();
    expect(directionMos({ ...none, lossPercent: -1, jitterMs: 0 }, 0)).toBe(4.4);
  });
});
