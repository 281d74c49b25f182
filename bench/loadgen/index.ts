// The SRTP⇄RTP load generator: two worker threads in the bench's process (browser side, trunk side), so
// that neither side's packets wait behind the other's, and the bench's main thread only orchestrates.
// Workers run the TypeScript sources through tsx's loader (registered inside the worker).
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { SideResult, WorkerReply, WorkerRequest } from './common.js';

type Request = WorkerRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

class Side {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (r: WorkerReply) => void; reject: (e: Error) => void }>();
  readonly ready: Promise<void>;

  constructor(private readonly worker: Worker) {
    let started: () => void;
    this.ready = new Promise((resolve) => (started = resolve));
    worker.on('message', (reply: WorkerReply) => {
      if (reply.id === 0) return started();
      const p = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (reply.error) p?.reject(new Error(reply.error));
      else p?.resolve(reply);
    });
    worker.on('error', (err) => {
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    });
  }

  request(req: Request): Promise<WorkerReply> {
    return new Promise((resolve, reject) => {
      const id = ++this.nextId;
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...req, id });
    });
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}

function startWorker(file: string): Side {
  const require = createRequire(import.meta.url);
  const tsx = pathToFileURL(require.resolve('tsx/esm/api').replace(/index\.cjs$/, 'index.mjs')).href;
  const entry = new URL(file, import.meta.url).href;
  const code = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
  return new Side(new Worker(code, { eval: true }));
}

export interface RunResult {
  browser: SideResult;
  trunk: SideResult;
}

/** What bench/srtp-relay.ts drives: the generator here (two worker threads) or the C one (bench/loadgen-c). */
export interface SrtpLoadGenerator {
  readonly kind: string;
  ready(): Promise<void>;
  /** The browser's offer for call `call`. */
  offer(call: number): Promise<string>;
  /** The trunk's answer to the engine's offer. */
  answer(call: number, sdp: string): Promise<string>;
  /** STUN check + DTLS handshake against the engine's answer. */
  connect(call: number, sdp: string): Promise<void>;
  run(warmupMs: number, measureMs: number): Promise<RunResult>;
  /** Close one call on both sides (a set-up to be tried again). */
  drop(call: number): Promise<void>;
  /** Close every call (the generator stays up for the next round). */
  closeCalls(): Promise<void>;
  stop(): Promise<void>;
  /** CPU time (user + system, ms) the generator has used so far, read around a measured phase. */
  cpuMs(): number;
}

export class LoadGenerator implements SrtpLoadGenerator {
  readonly kind = 'TypeScript, two worker threads of the bench process (bench/loadgen)';
  readonly browser = startWorker('./browser-side.ts');
  readonly trunk = startWorker('./trunk-side.ts');

  async ready(): Promise<void> {
    await Promise.all([this.browser.ready, this.trunk.ready]);
  }

  /** The browser's offer for call `call`. */
  async offer(call: number): Promise<string> {
    return (await this.browser.request({ op: 'open', call })).sdp!;
  }

  /** The trunk's answer to the engine's offer. */
  async answer(call: number, sdp: string): Promise<string> {
    return (await this.trunk.request({ op: 'answer', call, sdp })).sdp!;
  }

  /** STUN check + DTLS handshake against the engine's answer. */
  async connect(call: number, sdp: string): Promise<void> {
    await this.browser.request({ op: 'connect', call, sdp });
  }

  async run(warmupMs: number, measureMs: number): Promise<RunResult> {
    const [b, t] = await Promise.all([
      this.browser.request({ op: 'run', warmupMs, measureMs }),
      this.trunk.request({ op: 'run', warmupMs, measureMs }),
    ]);
    return { browser: b.result!, trunk: t.result! };
  }

  /** Close one call's sockets on both sides (a set-up to be tried again). */
  async drop(call: number): Promise<void> {
    await Promise.all([this.browser.request({ op: 'drop', call }), this.trunk.request({ op: 'drop', call })]);
  }

  /** Close every call's sockets (the workers stay up for the next round). */
  async closeCalls(): Promise<void> {
    await Promise.all([this.browser.request({ op: 'close' }), this.trunk.request({ op: 'close' })]);
  }

  async stop(): Promise<void> {
    await Promise.all([this.browser.terminate(), this.trunk.terminate()]);
  }

  /** The whole bench process: the workers and the orchestrating main thread. */
  cpuMs(): number {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  }
}
