// Runs the embedded media engine alone in its own process, so the benchmark can read its CPU time
// and memory from /proc just as it does rtpengine's (its worker threads included). Controlled over IPC with
// offer/answer/delete. BENCH_MEDIA_WORKERS: media.workers for it (default auto: one worker per core; 0: the
// engine in the process's own thread, as before media workers).
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createLogger } from '../gateway/log.js';
import { createEmbeddedMediaEngineFor, type WorkersSetting } from '../gateway/media/index.js';

type Command =
  | { id: number; op: 'offer'; callId: string; fromTag: string; sdp: string }
  | { id: number; op: 'answer'; callId: string; fromTag: string; toTag: string; sdp: string }
  | { id: number; op: 'delete'; callId: string }
  | { id: number; op: 'gc' }
  | { id: number; op: 'lag' };

const from = Number(process.env.BENCH_PORT_MIN ?? 31000);
const workers: WorkersSetting = (process.env.BENCH_MEDIA_WORKERS ?? 'auto') === 'auto' ? 'auto' : Number(process.env.BENCH_MEDIA_WORKERS);
const engine = await createEmbeddedMediaEngineFor(workers, {
  bindAddress: '127.0.0.1',
  portRange: { from, to: from + 4999 },
  logger: createLogger('silent'),
});

// Event-loop delay, read (and reset) by the bench around a measured run.
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();

process.on('message', (cmd: Command) => {
  if (cmd.op === 'lag') {
    // The histogram holds the sampling timer's whole interval: its lateness is what is above the resolution.
    const ms = (ns: number): number => Math.max(0, ns / 1e6 - 10);
    // with media workers: each worker's own loop (delay p99 and utilization over its latest 0.5 s window)
    const perWorker = engine.load().map((l) => ({ worker: l.worker, delayP99Ms: l.delayP99Ms, utilization: l.utilization, calls: l.calls }));
    process.send?.({ id: cmd.id, data: { p50: ms(loopDelay.percentile(50)), p99: ms(loopDelay.percentile(99)), max: ms(loopDelay.max), workers: perWorker } });
    loopDelay.reset();
    return;
  }
  const run = async (): Promise<string | undefined> => {
    if (cmd.op === 'offer') return (await engine.offer({ callId: cmd.callId, fromTag: cmd.fromTag, sdp: cmd.sdp, toProfile: 'rtp' })).sdp;
    if (cmd.op === 'answer') return (await engine.answer({ callId: cmd.callId, fromTag: cmd.fromTag, toTag: cmd.toTag, sdp: cmd.sdp })).sdp;
    if (cmd.op === 'gc') {
      // Memory per call is read after a full collection, so garbage not yet collected is not counted.
      (globalThis as { gc?: () => void }).gc?.();
      return undefined;
    }
    await engine.delete(cmd.callId);
    return undefined;
  };
  run().then(
    (sdp) => process.send?.({ id: cmd.id, sdp }),
    (err: Error) => process.send?.({ id: cmd.id, error: err.message }),
  );
});
process.send?.({ ready: true });
const shutdown = (): void => {
  void engine.close().then(() => process.exit(0)); // an orderly exit writes a --cpu-prof profile
};
process.on('disconnect', shutdown);
process.on('SIGTERM', shutdown);
