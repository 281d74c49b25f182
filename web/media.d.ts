// Types for media.js (used by the TypeScript unit tests; the browser loads the .js).
export declare function rtpCounts(pc: unknown): Promise<{ packetsReceived: number; packetsSent: number }>;
export declare function toneLevelFromSpectrum(dbBins: ArrayLike<number>, sampleRate: number, freqHz: number): number;
export declare class ToneMeter {
  attach(stream: unknown): void;
  detach(): void;
  level(freqHz: number): number;
}
