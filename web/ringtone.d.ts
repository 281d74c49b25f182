// Types for ringtone.js (used by the TypeScript unit tests; the browser loads the .js).
export interface Cadence { freqs: readonly number[]; onS: number; offS: number; level: number; beeps?: number; gapS?: number }
export declare const RING_CADENCE: Readonly<Cadence>;
export declare const WAITING_CADENCE: Readonly<Cadence>;
export declare function cadencePeriod(cadence: Omit<Cadence, 'freqs'>): number;
export declare function cadenceCycle(t: number, cadence: Omit<Cadence, 'freqs'>): Array<{ at: number; value: number; ramp: boolean }>;
export declare class Ringer {
  constructor(opts?: { createContext?: () => unknown; cadence?: Cadence; sinkId?: () => string });
  readonly playing: boolean;
  unlock(): unknown;
  start(): void;
  stop(): void;
}
