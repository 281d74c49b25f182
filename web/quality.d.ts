// Types for quality.js (used by the TypeScript unit tests; the browser loads the .js).
export type Warning = 'high-packet-loss' | 'high-jitter' | 'high-rtt' | 'low-mos' | 'no-input';
export declare const SILENT_INPUT: number;
export interface Snapshot {
  at: number;
  received: number;
  lost: number;
  jitterMs: number | null;
  jbDelayS: number;
  jbEmitted: number;
  rttMs: number | null;
  remoteLossPercent: number | null;
  codec: string;
  inputLevel?: number | null;
}
export interface Sample {
  at: number;
  lossPercent: number | null;
  remoteLossPercent: number | null;
  jitterMs: number | null;
  rttMs: number | null;
  jitterBufferMs: number | null;
  mos: number | null;
  r: number | null;
  codec: string;
  inputLevel: number | null;
}
export interface Change { sample: Sample | null; raised: Warning[]; cleared: Warning[] }
export declare const SAMPLE_MS: number;
export declare const LOSS_WINDOW_S: number;
export declare const MAX_SAMPLES: number;
export declare const THRESHOLDS: Readonly<{ lossPercent: number; jitterMs: number; rttMs: number; mos: number }>;
export declare const WARNING_TEXT: Readonly<Record<Warning, string>>;
export declare function readStats(report: { forEach(cb: (s: any) => void): void }, at: number): Snapshot;
export declare class QualityTracker {
  readonly snapshots: Snapshot[];
  readonly samples: Sample[];
  readonly warnings: Set<Warning>;
  push(snap: Snapshot, opts?: { quiet?: boolean }): Change;
  readonly last: Sample | null;
}
export declare class QualityMonitor {
  constructor(
    pc: { getStats(): Promise<any>; connectionState?: string },
    onSample: (m: QualityMonitor, change: Change) => void,
    now?: () => number,
    quiet?: () => boolean,
  );
  readonly tracker: QualityTracker;
  poll(): Promise<void>;
  stop(): void;
}
