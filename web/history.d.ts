// Types for history.js (used by the TypeScript unit tests; the browser loads the .js).
export type Outcome = 'answered' | 'missed' | 'answered-elsewhere' | 'declined' | 'failed';
export interface CallRecord {
  id: number;
  direction: 'in' | 'out';
  number: string;
  displayName: string;
  at: number;
  durationMs: number | null;
  outcome: Outcome;
  reason: string;
}
export declare class CallLog {
  constructor(limit?: number);
  readonly limit: number;
  add(r: Omit<CallRecord, 'id'>): CallRecord;
  recent(): readonly CallRecord[];
  missed(): CallRecord[];
  missedSince(seenAt: number): number;
  restore(saved: unknown): number;
  records: CallRecord[];
}
export declare function missedLabel(r: CallRecord): string;
export declare function recordLabel(r: CallRecord): string;
export declare function sessionRecord(
  s: {
    direction: 'in' | 'out';
    callerId: { number: string; displayName: string } | null;
    peer: string;
    cancelled: { outcome: 'missed' | 'answered-elsewhere'; text: string } | null;
    startedAt: number;
    answeredAt: number;
  },
  answered: boolean,
  reason: string,
  now: number,
): Omit<CallRecord, 'id'>;
