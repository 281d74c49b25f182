// The messages between the main thread and a media worker (structured clone over the worker's port).
// Calls: {id, op, args} → {id, ok, value | error}; MediaError codes cross the boundary unchanged. A reply
// carries the figures its operation changed (stats, quality, socket counts) so that the synchronous
// stats() / qualityNow() / openSockets() in main are right as soon as the operation resolves; between
// operations the worker sends them periodically (only calls whose counters moved).
import type { DtmfWatchRequest, ReceivedDtmf } from '../dtmf/types.js';
import type { EmbeddedMediaEngineOptions } from '../engine.js';
import type { DtlsCertificate } from '../dtls/certificate.js';
import type { CallQuality } from '../quality.js';
import { MediaError, type EngineLoad, type InactiveReason, type MediaErrorCode, type MediaStats, type SocketCounts } from '../types.js';

/** The engine operations a worker runs for main (the EmbeddedMediaEngine methods that return promises). */
export type WorkerOp = 'offer' | 'answer' | 'echo' | 'delete' | 'answerLocally' | 'rollback' | 'splice' | 'sendDtmf' | 'quality';

/** What a worker is started with (workerData): the engine options minus the logger, and the certificate
 *  made once in main (one fingerprint whichever worker holds a call). */
export interface WorkerInit {
  worker: number;
  options: Omit<EmbeddedMediaEngineOptions, 'logger'>;
  certificate: DtlsCertificate;
  logLevel: string;
  /** Period of the figures sent between operations. */
  snapshotMs: number;
}

export type ToWorker =
  | { kind: 'call'; id: number; op: WorkerOp; args: unknown }
  | { kind: 'watch'; watchId: number; request: DtmfWatchRequest }
  | { kind: 'unwatch'; watchId: number };

/** One call's figures: stats undefined = no such call (any more); quality = live or final figures. */
export type CallFigures = [key: string, stats: MediaStats | undefined, quality: CallQuality | undefined];

export interface Snapshot {
  calls: CallFigures[];
  sockets: SocketCounts;
  load?: EngineLoad;
}

export interface WireError {
  name: string;
  message: string;
  code?: MediaErrorCode;
}

export type FromWorker =
  | { kind: 'ready' }
  | { kind: 'reply'; id: number; ok: true; value: unknown; snap: Snapshot }
  | { kind: 'reply'; id: number; ok: false; error: WireError; snap: Snapshot }
  | { kind: 'snap'; snap: Snapshot }
  | { kind: 'inactive'; callId: string; leg: string; reason: InactiveReason }
  | { kind: 'dtmf'; watchId: number; dtmf: ReceivedDtmf }
  | { kind: 'log'; line: string };

export function toWire(err: unknown): WireError {
  if (err instanceof MediaError) return { name: err.name, message: err.message, code: err.code };
  if (err instanceof Error) return { name: err.name, message: err.message };
  return { name: 'Error', message: String(err) };
}

/** A MediaError again when it was one (same code and message), else a plain Error. */
export function fromWire(wire: WireError): Error {
  if (wire.code !== undefined) return new MediaError(wire.code, wire.message);
  const err = new Error(wire.message);
  err.name = wire.name;
  return err;
}

/** The call keys an operation touches (their figures go with its reply). */
export function keysOf(op: WorkerOp, args: unknown): string[] {
  const a = args as { callId?: unknown; a?: { callId?: unknown }; b?: { callId?: unknown } } | string | undefined;
  if (typeof a === 'string') return [a];
  if (op === 'splice') return [a?.a?.callId, a?.b?.callId].filter((k): k is string => typeof k === 'string');
  return typeof a?.callId === 'string' ? [a.callId] : [];
}
