// The embedded media engine alone in a process, as bench/engine-child.ts runs it, plus what a memory
// investigation needs: process.memoryUsage() after a full collection, and a heap snapshot on request.
// Driven by bench/mem-calls.ts over IPC (offer/answer/delete/gc/memory/snapshot/gcstats).
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8';
import { createLogger } from '../gateway/log.js';
import { createEmbeddedMediaEngine } from '../gateway/media/index.js';

type Command =
  | { id: number; op: 'offer'; callId: string; fromTag: string; sdp: string }
  | { id: number; op: 'answer'; callId: string; fromTag: string; toTag: string; sdp: string }
  | { id: number; op: 'delete'; callId: string }
  | { id: number; op: 'gc' }
  | { id: number; op: 'memory' }
  | { id: number; op: 'snapshot'; file: string }
  | { id: number; op: 'gcstats' };

/** Garbage collections since the last 'gcstats': count and pause time (ms), young (scavenge) and the rest. */
const gcs = { young: 0, youngMs: 0, other: 0, otherMs: 0 };
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const young = (entry as unknown as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR;
    if (young) {
      gcs.young++;
      gcs.youngMs += entry.duration;
    } else {
      gcs.other++;
      gcs.otherMs += entry.duration;
    }
  }
}).observe({ entryTypes: ['gc'] });

const from = Number(process.env.BENCH_PORT_MIN ?? 31000);
const engine = await createEmbeddedMediaEngine({
  bindAddress: '127.0.0.1',
  portRange: { from, to: from + 4999 },
  logger: createLogger('silent'),
  admission: { enabled: false }, // 100 DTLS set-ups at once are a burst the engine would refuse calls for
});

const gc = (): void => {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (!collect) throw new Error('mem-child needs --expose-gc');
  collect();
  collect();
};

async function run(cmd: Command): Promise<unknown> {
  switch (cmd.op) {
    case 'offer':
      return (await engine.offer({ callId: cmd.callId, fromTag: cmd.fromTag, sdp: cmd.sdp, toProfile: 'rtp' })).sdp;
    case 'answer':
      return (await engine.answer({ callId: cmd.callId, fromTag: cmd.fromTag, toTag: cmd.toTag, sdp: cmd.sdp })).sdp;
    case 'delete':
      await engine.delete(cmd.callId);
      return undefined;
    case 'gc':
      gc();
      return undefined;
    case 'memory': {
      gc();
      const spaces = Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, s.space_size]));
      return { ...process.memoryUsage(), spaces };
    }
    case 'gcstats': {
      const copy = { ...gcs };
      Object.assign(gcs, { young: 0, youngMs: 0, other: 0, otherMs: 0 });
      return copy;
    }
    case 'snapshot':
      gc();
      return writeHeapSnapshot(cmd.file);
  }
}

process.on('message', (cmd: Command) => {
  run(cmd).then(
    (data) => process.send?.({ id: cmd.id, data }),
    (err: Error) => process.send?.({ id: cmd.id, error: err.message }),
  );
});
process.send?.({ ready: true });
const shutdown = (): void => {
  void engine.close().then(() => process.exit(0));
};
process.on('disconnect', shutdown);
process.on('SIGTERM', shutdown);
