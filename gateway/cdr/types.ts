// Call detail records: one row per call attempt, and the store interface they are kept behind (SQLite
// here, sqlite-store.ts; memory, memory-store.ts; PostgreSQL can follow with the same methods).
import type { CallDirection } from '../call/observer.js';

/** Who ended the call; 'gateway' also for calls closed as "gateway restarted". */
export type CdrSide = 'caller' | 'callee' | 'gateway';

/** One leg's quality (issue 11 item 2; null until the RTCP figures are wired in). */
export interface LegQuality {
  packets: number | null;
  lost: number | null;
  jitterMs: number | null;
  rttMs: number | null;
  mos: number | null;
}

export interface CdrRecord {
  /** The gateway's call id (a UUID, in its log lines as `call`). */
  id: string;
  direction: CallDirection;
  callerUser: string | null;
  callerNumber: string;
  calleeUser: string | null;
  calleeNumber: string;
  trunk: string | null;
  /** Epoch milliseconds: the INVITE arrived / the caller got the 2xx / the call ended. */
  startTime: number;
  answerTime: number | null;
  endTime: number | null;
  /** Seconds from answer to end (0 for an unanswered call; null when the end is not known). */
  duration: number | null;
  /** 200 for an answered call, else the final status the caller got (null: not known, e.g. restarted). */
  status: number | null;
  reason: string | null;
  endedBy: CdrSide | null;
  /** The callee leg's audio codec (e.g. PCMU) once answered. */
  codec: string | null;
  mediaEngine: string;
  quality: { caller: LegQuality; callee: LegQuality };
  /** false while the call is up (no end written yet). */
  closed: boolean;
}

/** Written when the call starts (the INVITE was admitted). */
export type CdrStart = Pick<CdrRecord, 'id' | 'direction' | 'callerUser' | 'callerNumber' | 'calleeUser' | 'calleeNumber' | 'trunk' | 'startTime' | 'mediaEngine'>;
/** Written when the caller got the 2xx. */
export type CdrAnswer = Pick<CdrRecord, 'answerTime' | 'trunk' | 'codec'>;
/** Written at the end. */
export type CdrEnd = Pick<CdrRecord, 'endTime' | 'duration' | 'status' | 'reason' | 'endedBy' | 'trunk' | 'codec'> & Partial<Pick<CdrRecord, 'quality'>>;

export interface CdrQuery {
  /** Epoch ms bounds on the start time (from inclusive, to exclusive). */
  from?: number;
  to?: number;
  /** A user on either side. */
  user?: string;
  /** A number on either side (substring). */
  number?: string;
  /** Most rows returned, oldest first; default 1000, at most 10,000. */
  limit?: number;
}

export const DEFAULT_QUERY_LIMIT = 1000;
export const MAX_QUERY_LIMIT = 10_000;

/** The reason of the rows a crash left open, closed at the next start. */
export const REASON_RESTARTED = 'gateway restarted';

/** Where CDRs are kept. Every method may complete later (a network database): callers await or catch. */
export interface CdrStore {
  /** 'sqlite' | 'memory' | … (logged at start). */
  readonly kind: string;
  /** Closes the rows a previous run left open: reason "gateway restarted", ended by the gateway, end
   *  time unknown. Returns how many. Called once at start, before any new row. */
  recover(): Promise<number>;
  start(row: CdrStart): Promise<void>;
  answer(id: string, fields: CdrAnswer): Promise<void>;
  end(id: string, fields: CdrEnd): Promise<void>;
  query(q: CdrQuery): Promise<CdrRecord[]>;
  /** Deletes records that started before `before` (epoch ms); returns how many. */
  prune(before: number): Promise<number>;
  close(): Promise<void>;
}

export const emptyQuality = (): LegQuality => ({ packets: null, lost: null, jitterMs: null, rttMs: null, mos: null });

export function queryLimit(q: CdrQuery): number {
  return Math.min(Math.max(1, Math.floor(q.limit ?? DEFAULT_QUERY_LIMIT)), MAX_QUERY_LIMIT);
}
