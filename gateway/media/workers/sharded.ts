// The embedded media engine across worker threads (issue 12 item 1): each worker runs one Engine on its own
// share of media.rtpPorts with its own sockets, DTLS and SRTP contexts, so relaying grows with cores the way
// rtpengine's poller threads do. Main keeps the EmbeddedMediaEngine contract: it places a call key on a
// worker at its first offer/echo (placement.ts), routes every later operation on the key there, and keeps
// the figures the workers send (stats, quality, socket counts, load) so that the synchronous methods answer
// at once. A worker that stops unasked has its calls reported inactive (the call layer ends them with BYE)
// and a replacement starts with the next call placed on it.
import { availableParallelism } from 'node:os';
import type { Logger } from 'pino';
import { createDtlsCertificate } from '../dtls/certificate.js';
import type { DtmfSendRequest, DtmfSendResult, DtmfWatchRequest, ReceivedDtmf } from '../dtmf/types.js';
import { createEmbeddedMediaEngine, type EmbeddedMediaEngine, type EmbeddedMediaEngineOptions } from '../engine.js';
import type { CallQuality } from '../quality.js';
import {
  MediaError,
  type AnswerRequest,
  type EchoRequest,
  type EngineLoad,
  type InactiveListener,
  type InactiveReason,
  type LocalAnswerRequest,
  type MediaStats,
  type OfferRequest,
  type RollbackRequest,
  type SdpResult,
  type SocketCounts,
  type SpliceRequest,
} from '../types.js';
import { MediaWorker, requireWorkerScript } from './host.js';
import { Placement } from './placement.js';
import type { Snapshot, WorkerInit, WorkerOp } from './protocol.js';
import { resolveWorkerCount, splitPortRange, type WorkersSetting } from './split.js';

export interface ShardedMediaEngineOptions extends EmbeddedMediaEngineOptions {
  /** How many worker threads (≥ 1); media.rtpPorts is split between them (split.ts). */
  workers: number;
  /** Period of the figures each worker sends between operations (default 500 ms: at 200 ms they cost ≈ 5 µs
   *  of CPU per relayed packet with 100 SRTP calls, bench/srtp-relay.ts). */
  snapshotMs?: number;
}

/** Final quality figures kept after a call's media was deleted (as the in-thread engine). */
const FINISHED_KEPT = 256;

export async function createShardedMediaEngine(options: ShardedMediaEngineOptions): Promise<ShardedMediaEngine> {
  const ranges = splitPortRange(options.portRange, options.workers);
  const certificate = options.certificate ?? (await createDtlsCertificate());
  const { logger, workers: _workers, snapshotMs = 500, ...shared } = options;
  const inits: WorkerInit[] = ranges.map((portRange, worker) => ({
    worker,
    options: { ...shared, portRange },
    certificate,
    logLevel: logger.level,
    snapshotMs,
  }));
  requireWorkerScript();
  const engine = new ShardedMediaEngine(inits, logger);
  // The first worker starts with the engine (the gateway creates it before anything listens: a worker that
  // cannot start fails the start, and the first call does not wait ≈ 0.2-1 s for a thread); the others when a
  // call is first placed on them (a worker takes 0.2-0.5 s of CPU to start here, and loads its DTLS library
  // with its first browser call: a gateway that relays few calls — most test gateways — pays for one). A
  // replacement after a crash starts on next use too.
  await engine.startFirst().catch(async (err: unknown) => {
    await engine.close();
    throw err;
  });
  return engine;
}

export class ShardedMediaEngine implements EmbeddedMediaEngine {
  private readonly workers: MediaWorker[];
  private readonly placement: Placement;
  /** Per live call key: the figures its worker sent last. */
  private readonly live = new Map<string, { stats: MediaStats; quality: CallQuality | undefined }>();
  private readonly finished = new Map<string, CallQuality>();
  /** Which placement of a key a first offer made (a failed first offer frees only its own). */
  private readonly generation = new Map<string, number>();
  private nextGeneration = 1;
  private readonly inactive = new Set<InactiveListener>();
  private readonly watches = new Map<number, (dtmf: ReceivedDtmf) => void>();
  private nextWatch = 1;
  private closing: Promise<void> | undefined;

  constructor(
    inits: WorkerInit[],
    private readonly logger: Logger,
  ) {
    const events = {
      snapshot: (_w: number, snap: Snapshot) => this.apply(snap),
      inactive: (callId: string, leg: string, reason: InactiveReason) => this.report(callId, leg, reason),
      dtmf: (watchId: number, dtmf: ReceivedDtmf) => this.watches.get(watchId)?.(dtmf),
      exited: (worker: number) => this.lost(worker),
    };
    this.workers = inits.map((init) => new MediaWorker(init.worker, init, logger, events));
    this.placement = new Placement(inits.length);
  }

  /** Test hooks and metrics: the worker holding a key, the number of workers, each one's live keys. */
  workerOf(callId: string): number | undefined {
    return this.placement.workerOf(callId);
  }

  get workerCount(): number {
    return this.workers.length;
  }

  callsOn(worker: number): number {
    return this.placement.calls(worker);
  }

  async startFirst(): Promise<void> {
    await this.workers[0]!.start();
  }

  /** Tests: end worker `n`'s thread as a crash would. */
  async killWorker(n: number): Promise<void> {
    await this.workers[n]!.stop(true);
  }

  offer(request: OfferRequest): Promise<SdpResult> {
    return this.first('offer', request) as Promise<SdpResult>;
  }

  echo(request: EchoRequest): Promise<SdpResult> {
    return this.first('echo', request) as Promise<SdpResult>;
  }

  answer(request: AnswerRequest): Promise<SdpResult> {
    return this.routed('answer', request?.callId, request) as Promise<SdpResult>;
  }

  answerLocally(request: LocalAnswerRequest): Promise<SdpResult> {
    return this.routed('answerLocally', request?.callId, request) as Promise<SdpResult>;
  }

  async rollback(request: RollbackRequest): Promise<void> {
    if (this.placement.workerOf(request?.callId) === undefined) return;
    await this.routed('rollback', request.callId, request);
  }

  /** Both calls must be in one worker (the call layer's placement groups see to it). */
  async splice(request: SpliceRequest): Promise<void> {
    const a = this.placement.workerOf(request?.a?.callId);
    const b = this.placement.workerOf(request?.b?.callId);
    if (a === undefined || b === undefined) throw new MediaError('unknown-call', `no established media call ${a === undefined ? request?.a?.callId : request?.b?.callId}`);
    if (a !== b) {
      this.logger.warn({ a: request.a, b: request.b, workers: [a, b] }, 'media splice across workers refused');
      throw new MediaError('unknown-call', `calls ${request.a.callId} and ${request.b.callId} are in different media workers (${a}, ${b}): they cannot be joined`);
    }
    await this.workers[a]!.call('splice', request);
  }

  /** Frees the key's placement at once; resolves when its worker freed the ports. */
  async delete(callId: string): Promise<void> {
    const worker = this.placement.workerOf(callId);
    if (worker === undefined) return;
    this.placement.free(callId);
    this.generation.delete(callId);
    const thread = this.workers[worker]!;
    await thread.call('delete', callId).catch((err: unknown) => {
      if (thread.started) throw err; // its thread is gone, and the call with it
    });
  }

  sendDtmf(request: DtmfSendRequest): Promise<DtmfSendResult> {
    const worker = this.placement.workerOf(request?.callId);
    if (worker === undefined) return Promise.resolve('unknown-call');
    return this.workers[worker]!.call('sendDtmf', request) as Promise<DtmfSendResult>;
  }

  watchDtmf(request: DtmfWatchRequest, listener: (dtmf: ReceivedDtmf) => void): () => void {
    const worker = this.workers[this.placement.workerOf(request?.callId) ?? -1];
    if (!worker) return () => undefined;
    const watchId = this.nextWatch++;
    this.watches.set(watchId, listener);
    worker.send({ kind: 'watch', watchId, request });
    return () => {
      if (this.watches.delete(watchId)) worker.send({ kind: 'unwatch', watchId });
    };
  }

  onInactive(listener: InactiveListener): () => void {
    this.inactive.add(listener);
    return () => this.inactive.delete(listener);
  }

  stats(callId: string): MediaStats | undefined {
    return this.live.get(callId)?.stats;
  }

  async quality(callId: string): Promise<CallQuality | undefined> {
    const worker = this.placement.workerOf(callId);
    if (worker === undefined) return this.qualityNow(callId);
    return (await this.workers[worker]!.call('quality', callId)) as CallQuality | undefined;
  }

  qualityNow(callId: string): CallQuality | undefined {
    return this.live.get(callId)?.quality ?? this.finished.get(callId);
  }

  openSockets(): SocketCounts {
    const sum: SocketCounts = { udp: 0, tcpListeners: 0, tcpConnections: 0 };
    for (const w of this.workers) {
      sum.udp += w.sockets.udp;
      sum.tcpListeners += w.sockets.tcpListeners;
      sum.tcpConnections += w.sockets.tcpConnections;
    }
    return sum;
  }

  /** Each worker's latest figures (live calls counted here: a worker not started has none). */
  load(): EngineLoad[] {
    return this.workers.map((w, worker) => {
      const latest = w.latestLoad ?? { worker, calls: 0, utilization: 0, delayP99Ms: 0, admitting: true };
      return { ...latest, worker, calls: this.placement.calls(worker) };
    });
  }

  /** Deletes every call, then ends the threads. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const keys = this.workers.flatMap((_, w) => this.placement.keysOf(w));
      await Promise.all(keys.map((key) => this.delete(key).catch(() => undefined)));
      await Promise.all(this.workers.map((w) => w.stop()));
    })();
    return this.closing;
  }

  /** offer / echo: the key's worker, placed now when new (least loaded, or its group's). */
  private async first(op: 'offer' | 'echo', request: OfferRequest | EchoRequest): Promise<unknown> {
    const callId = request?.callId;
    if (typeof callId !== 'string' || callId.length === 0) throw new MediaError('bad-sdp', 'callId must be a non-empty string');
    if (this.closing) throw new MediaError('no-ports', 'media engine is closed');
    const { worker, placed } = this.placement.place(callId, { groups: request.groups }, (w) => this.workers[w]!.admitting);
    const generation = placed ? this.nextGeneration++ : undefined;
    if (generation !== undefined) this.generation.set(callId, generation);
    try {
      return await this.workers[worker]!.call(op, request);
    } catch (err) {
      // a first offer that failed leaves no call behind: its placement goes (unless a newer one replaced it)
      if (generation !== undefined && this.generation.get(callId) === generation && !this.live.has(callId)) {
        this.placement.free(callId);
        this.generation.delete(callId);
      }
      throw err;
    }
  }

  private routed(op: WorkerOp, callId: string | undefined, request: unknown): Promise<unknown> {
    const worker = callId === undefined ? undefined : this.placement.workerOf(callId);
    if (worker === undefined) return Promise.reject(new MediaError('unknown-call', `no media call ${String(callId)}`));
    return this.workers[worker]!.call(op, request);
  }

  private apply(snap: Snapshot): void {
    for (const [key, stats, quality] of snap.calls) {
      if (stats) {
        this.live.set(key, { stats, quality });
        continue;
      }
      this.live.delete(key);
      if (!quality) continue;
      this.finished.delete(key);
      this.finished.set(key, quality);
      if (this.finished.size > FINISHED_KEPT) this.finished.delete(this.finished.keys().next().value!);
    }
  }

  private report(callId: string, leg: string, reason: InactiveReason): void {
    for (const listener of this.inactive) listener(callId, leg, reason);
  }

  /** A worker stopped unasked: its calls are gone; the call layer hears of each as inactive media. */
  private lost(worker: number): void {
    const keys = this.placement.keysOf(worker);
    for (const key of keys) {
      this.placement.free(key);
      this.generation.delete(key);
      this.live.delete(key);
    }
    this.logger.error({ worker, calls: keys.length }, 'media worker lost: ending its calls');
    for (const key of keys) this.report(key, `worker-${worker}`, 'no-rtp-rtcp');
  }
}

/** media.workers 'auto': the cores this process may use. */
export function coreCount(): number {
  return availableParallelism();
}

/** The embedded engine for media.workers: 0 = in this thread; otherwise that many worker threads ('auto': one
 *  per core, fewer when the port range is narrow: split.ts). */
export function createEmbeddedMediaEngineFor(setting: WorkersSetting, options: EmbeddedMediaEngineOptions): Promise<EmbeddedMediaEngine> {
  const workers = resolveWorkerCount(setting, options.portRange, coreCount());
  return workers === 0 ? createEmbeddedMediaEngine(options) : createShardedMediaEngine({ ...options, workers });
}
