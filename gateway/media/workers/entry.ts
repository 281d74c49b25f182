// A media worker thread: one embedded Engine on its own port sub-range, driven by the main thread's
// ShardedMediaEngine (host.ts) through the messages of protocol.ts. It answers each call with the figures
// the operation changed, sends the figures of calls whose counters moved every snapshotMs, and forwards
// inactivity reports, RFC 4733 events and its log lines (main writes them with its own logger).
import { parentPort, workerData } from 'node:worker_threads';
import { pino } from 'pino';
import { LOG_OPTIONS } from '../../log.js';
import { loadDtls } from '../dtls/session.js';
import { createEmbeddedMediaEngine } from '../engine.js';
import type { EngineLoad, MediaStats } from '../types.js';
import { keysOf, toWire, type CallFigures, type FromWorker, type Snapshot, type ToWorker, type WorkerInit, type WorkerOp } from './protocol.js';

const port = parentPort!;
const init = workerData as WorkerInit;
const post = (message: FromWorker) => port.postMessage(message);

const logger = pino({ ...LOG_OPTIONS, level: init.logLevel }, { write: (line: string) => post({ kind: 'log', line }) });
// The DTLS library before the first call, not during it: loading it takes this thread 0.2-0.4 s here, which
// held up the first browser call's answer (the in-thread engine pays it once per process; each worker would
// pay it on its first browser call). Before the engine: its admission control does not count the load.
await loadDtls();
const engine = await createEmbeddedMediaEngine({ ...init.options, certificate: init.certificate, logger });
await warmUp();

/** Call keys with figures in main, and a signature of the stats main has for each (a change → resent). */
const known = new Map<string, number>();

/** The counters' sum, weighted per field: it moves with every packet a leg takes or sends. Tags change only
 *  by an operation, whose reply carries the figures anyway. */
function signature(stats: MediaStats): number {
  let sum = 0;
  for (const l of Object.values(stats.legs)) sum += l.packetsIn + 3 * l.packetsOut + 7 * l.packetsRejected + 11 * (l.packetsHeld ?? 0);
  return sum;
}
const watches = new Map<number, () => void>();

function load(): EngineLoad | undefined {
  const own = (engine as Partial<{ load(): EngineLoad[] }>).load?.()[0];
  return own ? { ...own, worker: init.worker } : undefined;
}

function figures(key: string): CallFigures {
  const stats = engine.stats(key);
  if (stats) known.set(key, signature(stats));
  else known.delete(key);
  return [key, stats, engine.qualityNow(key)];
}

function snapshot(calls: CallFigures[]): Snapshot {
  return { calls, sockets: engine.openSockets(), load: load() };
}

/** Calls whose counters moved since main last had them, and calls gone (a splice drops one). */
function changed(): CallFigures[] {
  const out: CallFigures[] = [];
  for (const [key, last] of known) {
    const stats = engine.stats(key);
    if (!stats || signature(stats) !== last) out.push(figures(key));
  }
  return out;
}

/** One echo call set up and deleted before the worker says ready: a fresh thread's first offer ran its code
 *  cold (SDP parsing and writing, leg opening) and took past 200 ms on a loaded machine — the time after
 *  which an INVITE gets 100 Trying. Its two ports are free again when the worker is ready. */
async function warmUp(): Promise<void> {
  const sdp = ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 9 RTP/AVP 0 101', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', 'a=sendrecv', ''].join('\r\n');
  const callId = `warm-up-${init.worker}`;
  await engine.echo({ callId, fromTag: 'warm-up', sdp }).catch(() => undefined);
  await engine.delete(callId);
}

async function run(op: WorkerOp, args: unknown): Promise<unknown> {
  const e = engine as unknown as Record<WorkerOp, (a: unknown) => Promise<unknown>>;
  switch (op) {
    case 'offer': case 'answer': case 'echo': case 'delete': case 'answerLocally':
    case 'rollback': case 'splice': case 'sendDtmf': case 'quality':
      return e[op].call(engine, args);
    default:
      throw new Error(`unknown media worker operation ${String(op)}`);
  }
}

async function call(id: number, op: WorkerOp, args: unknown): Promise<void> {
  try {
    const value = await run(op, args);
    post({ kind: 'reply', id, ok: true, value, snap: snapshot(keysOf(op, args).map(figures)) });
  } catch (err) {
    post({ kind: 'reply', id, ok: false, error: toWire(err), snap: snapshot(keysOf(op, args).map(figures)) });
  }
}

function receive(message: ToWorker): void {
  if (message.kind === 'call') void call(message.id, message.op, message.args);
  else if (message.kind === 'watch') {
    const { watchId } = message;
    watches.set(watchId, engine.watchDtmf(message.request, (dtmf) => post({ kind: 'dtmf', watchId, dtmf })));
  } else if (message.kind === 'unwatch') {
    watches.get(message.watchId)?.();
    watches.delete(message.watchId);
  }
}

engine.onInactive((callId, leg, reason) => post({ kind: 'inactive', callId, leg, reason }));
port.on('message', receive);
setInterval(() => post({ kind: 'snap', snap: snapshot(changed()) }), init.snapshotMs).unref();
post({ kind: 'ready' });
