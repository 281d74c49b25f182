// Types for mos.js (used by the TypeScript unit tests; the browser loads the .js).
export interface CodecImpairment { ie: number; bpl: number }
export declare const R_DEFAULT: number;
export declare const CODECS: Readonly<Record<'PCMU' | 'PCMA' | 'G722' | 'G729', CodecImpairment>>;
export declare function delayImpairment(delayMs: number): number;
export declare function lossImpairment(lossPercent: number, codec: CodecImpairment, burstR?: number): number;
export declare function mosFromR(r: number): number;
export declare function oneWayDelayMs(s: { rttMs?: number | null; jitterMs?: number | null; jitterBufferMs?: number | null }): number;
export declare function estimateMos(s: {
  lossPercent: number;
  rttMs?: number | null;
  jitterMs?: number | null;
  jitterBufferMs?: number | null;
  codec?: string;
}): { r: number; mos: number };
export declare function mosGrade(mos: number): 'good' | 'fair' | 'poor' | 'bad';
