// One media worker thread seen from main: started on first use, its calls (RPC with ids), the figures it
// sends (handed to the engine, sharded.ts), its log lines written with main's logger, and its exit. An exit
// main did not ask for (a crash, or a test's kill()) rejects the calls in flight and is reported once.
import { randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { ReceivedDtmf } from '../dtmf/types.js';
import { MediaError, type EngineLoad, type InactiveReason, type SocketCounts } from '../types.js';
import { fromWire, type FromWorker, type Snapshot, type ToWorker, type WorkerInit, type WorkerOp } from './protocol.js';

/** V8's young generation per media worker. The relay allocates a little per datagram, so by default the new
 *  space grows to its 16 MiB semi-spaces under load and stays there: ≈ 160 KiB of RSS "per call" at 100 calls
 *  that is no call's state. 3 MiB (1 MiB semi-spaces) measured 58 vs 328 KiB RSS per SRTP⇄RTP call, with no
 *  CPU cost the bench could show (bench/mem-calls.ts, README "Memory per browser call"). */
const YOUNG_GENERATION_MB = 3;

export interface WorkerEvents {
  snapshot(worker: number, snap: Snapshot): void;
  inactive(callId: string, leg: string, reason: InactiveReason): void;
  dtmf(watchId: number, dtmf: ReceivedDtmf): void;
  /** The thread stopped without stop() (after its pending calls were rejected). */
  exited(worker: number, why: string): void;
}

type Pending = { resolve: (value: unknown) => void; reject: (err: Error) => void };

const NO_SOCKETS: SocketCounts = { udp: 0, tcpListeners: 0, tcpConnections: 0 };
const LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal']);

/** The worker's script: the bundle's second entry point (build/gateway/media-worker.js, beside main.js) in
 *  the built gateway; from the TypeScript sources, the entry bundled on the fly (dev-bundle.ts). */
function script(): Promise<URL> {
  const here = import.meta.url;
  if (here.endsWith('.ts')) return import('./dev-bundle.js').then((m) => m.devBundle(new URL('./entry.ts', here)));
  return Promise.resolve(new URL('./media-worker.js', here));
}

/** The built gateway without its worker script (media-worker.js beside main.js) cannot relay: refused at start
 *  (from the TypeScript sources the entry is bundled on first use). */
export function requireWorkerScript(): void {
  const here = import.meta.url;
  if (here.endsWith('.ts')) return;
  const file = new URL('./media-worker.js', here);
  if (!existsSync(file)) throw new Error(`media.workers: the media worker script ${fileURLToPath(file)} is missing (npm run build:gateway builds it; media.workers: 0 runs without)`);
}

export class MediaWorker {
  private thread: Worker | undefined;
  private ready: Promise<void> | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** Threads started so far (the first uses init as it is; see spawnInit). */
  private spawned = 0;
  private stopping = false;
  /** Rejects the start in progress (an exit before 'ready'); a no-op once started. */
  private failStart: (err: Error) => void = () => undefined;
  sockets: SocketCounts = NO_SOCKETS;
  latestLoad: EngineLoad | undefined;

  constructor(
    readonly index: number,
    private readonly init: WorkerInit,
    private readonly logger: Logger,
    private readonly events: WorkerEvents,
  ) {}

  get started(): boolean {
    return this.thread !== undefined;
  }

  /** Whether it takes new calls, as its latest figures said (true before it reported any). */
  get admitting(): boolean {
    return this.latestLoad?.admitting ?? true;
  }

  async call(op: WorkerOp, args: unknown): Promise<unknown> {
    await this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.send({ kind: 'call', id, op, args });
    });
  }

  /** A message without reply (DTMF watches); dropped when the thread is not running. */
  send(message: ToWorker): void {
    this.thread?.postMessage(message);
  }

  start(): Promise<void> {
    if (this.ready) return this.ready;
    if (this.stopping) return Promise.reject(new MediaError('no-ports', 'media engine is closed'));
    this.ready = script().then((file) => this.spawn(file));
    this.ready.catch(() => undefined);
    return this.ready;
  }

  private spawn(file: URL): Promise<void> {
    if (this.stopping) throw new MediaError('no-ports', 'media engine is closed');
    const thread = new Worker(file, { workerData: this.spawnInit(), resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB } });
    this.thread = thread;
    thread.unref(); // a forgotten engine does not keep the process alive
    return new Promise<void>((resolve, reject) => {
      this.failStart = reject;
      thread.on('message', (m: FromWorker) => (m.kind === 'ready' ? resolve() : this.receive(m)));
      thread.on('error', (err) => {
        this.logger.error({ worker: this.index, err: err.message }, 'media worker failed');
        reject(new MediaError('no-ports', `media worker ${this.index} failed to start: ${err.message}`));
      });
      thread.on('exit', (code) => this.onExit(code));
    });
  }

  /** Ends the thread (close(), or a test's kill: then it counts as a crash). */
  async stop(asCrash = false): Promise<void> {
    if (!asCrash) this.stopping = true;
    await this.thread?.terminate();
  }

  private receive(m: FromWorker): void {
    switch (m.kind) {
      case 'reply': {
        this.events.snapshot(this.index, m.snap);
        this.applyLoad(m.snap);
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        if (m.ok) p?.resolve(m.value);
        else p?.reject(fromWire(m.error));
        return;
      }
      case 'snap':
        this.applyLoad(m.snap);
        return this.events.snapshot(this.index, m.snap);
      case 'inactive':
        return this.events.inactive(m.callId, m.leg, m.reason);
      case 'dtmf':
        return this.events.dtmf(m.watchId, m.dtmf);
      case 'log':
        return this.log(m.line);
    }
  }

  private applyLoad(snap: Snapshot): void {
    this.sockets = snap.sockets;
    if (snap.load) this.latestLoad = snap.load;
  }

  /** A worker's pino line, written again by main's logger (its level, message and fields). */
  private log(line: string): void {
    try {
      const { level, msg, time: _time, ...fields } = JSON.parse(line) as { level?: string; msg?: string; time?: unknown };
      const write = LEVELS.has(String(level)) ? (level as 'info') : 'info';
      this.logger[write]({ ...fields, worker: this.index }, msg ?? '');
    } catch {
      this.logger.info({ worker: this.index, line }, 'media worker log line');
    }
  }

  /** The first thread starts its ports at the range's start; a replacement at a random port of the range,
   *  away from where the dead thread's calls were (their peers may still be sending there). */
  private spawnInit(): WorkerInit {
    if (this.spawned++ === 0) return this.init;
    const { from, to } = this.init.options.portRange;
    return { ...this.init, options: { ...this.init.options, firstPort: randomInt(from, to + 1) } };
  }

  private onExit(code: number): void {
    const why = this.stopping ? 'stopped' : `exited (code ${code})`;
    const failure = new MediaError('no-ports', `media worker ${this.index} ${why}`);
    this.failStart(failure);
    for (const p of this.pending.values()) p.reject(failure);
    this.pending.clear();
    this.thread = undefined;
    this.sockets = NO_SOCKETS;
    if (this.stopping) return;
    this.ready = undefined; // a replacement starts on next use
    this.latestLoad = undefined;
    this.logger.error({ worker: this.index, code }, 'media worker exited: its calls end');
    this.events.exited(this.index, why);
  }
}
