// Calibration of media.admission's thresholds (gateway/media/admission.ts): the embedded engine in this
// process's own thread (as with media.workers 0; each media worker thread is the same), admission off so
// nothing is refused, SRTP⇄RTP calls from the C load generator (bench/loadgen-c, its own process) at rising
// call counts. Per step: what the engine's admission sees every 0.5 s window (event-loop utilization and
// delay p99: median and worst window), the process's share of a core, and what the calls get (loss,
// added latency p99/p99.9). The thresholds should sit where the calls start to suffer, not below.
// Run: npx tsx bench/admission-steps.ts   (BENCH_ADMIT_STEPS=100,200,300,400,500; BENCH_ADMIT_SECONDS=6)
import { createLogger } from '../gateway/log.js';
import { DEFAULT_ADMISSION } from '../gateway/media/admission.js';
import { createEmbeddedMediaEngine, type EmbeddedMediaEngine, type EngineLoad } from '../gateway/media/index.js';
import type { BenchEngine } from './engines.js';
import { CLoadGenerator } from './loadgen-c/index.js';
import { runSrtpRelay, type SrtpRun } from './srtp-relay.js';

/** The engine in this thread as a BenchEngine (CPU is read from this process: the driver only sleeps). */
function inThread(engine: EmbeddedMediaEngine): BenchEngine {
  return {
    name: 'embedded (in-thread)',
    pid: process.pid,
    offer: async (callId, fromTag, sdp) => (await engine.offer({ callId, fromTag, sdp, toProfile: 'rtp' })).sdp,
    answer: async (callId, fromTag, toTag, sdp) => (await engine.answer({ callId, fromTag, toTag, sdp })).sdp,
    delete: (callId) => engine.delete(callId),
    settle: async () => undefined,
    stop: () => engine.close(),
  };
}

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

interface Step {
  calls: number;
  run: SrtpRun;
  windows: EngineLoad[];
}

async function step(gen: CLoadGenerator, calls: number, measureMs: number): Promise<Step> {
  const engine = await createEmbeddedMediaEngine({ bindAddress: '127.0.0.1', portRange: { from: 32000, to: 36999 }, logger: createLogger('silent'), admission: { enabled: false } });
  const windows: EngineLoad[] = [];
  // Sample the admission's windows while the calls run (after set-up and warm-up: the last measureMs).
  let sampling = false;
  const timer = setInterval(() => sampling && windows.push(engine.load()[0]!), 500);
  const warmupMs = 1000;
  try {
    const running = runSrtpRelay(inThread(engine), gen, calls, warmupMs, measureMs);
    // runSrtpRelay's set-up time is unknown here: sample from when the engine holds all the calls.
    while (engine.load()[0]!.calls < calls) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, warmupMs));
    sampling = true;
    const run = await running;
    return { calls, run, windows };
  } finally {
    clearInterval(timer);
    await engine.close();
  }
}

const f = (n: number, d = 2): string => (Number.isFinite(n) ? n.toFixed(d) : '—');

const steps = (process.env.BENCH_ADMIT_STEPS ?? '100,200,300,400,500').split(',').map(Number);
const measureMs = Number(process.env.BENCH_ADMIT_SECONDS ?? 6) * 1000;
const gen = new CLoadGenerator();
await gen.ready();
const { loadavg } = await import('node:os');
const out: string[] = [
  `media.admission calibration: load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}; thresholds (defaults) utilization ${DEFAULT_ADMISSION.maxUtilization}, delay p99 ${DEFAULT_ADMISSION.maxDelayMs} ms`,
  '',
  '| calls | core % | utilization median / max window | delay p99 median / max window (ms) | windows over a threshold | loss % | latency p99 / p99.9 (ms) |',
  '|---|---|---|---|---|---|---|',
];
try {
  for (const calls of steps) {
    const s = await step(gen, calls, measureMs);
    const u = s.windows.map((w) => w.utilization);
    const d = s.windows.map((w) => w.delayP99Ms);
    const over = s.windows.filter((w) => w.utilization > DEFAULT_ADMISSION.maxUtilization || w.delayP99Ms > DEFAULT_ADMISSION.maxDelayMs).length;
    const line = `| ${calls} | ${f(s.run.corePct, 0)} | ${f(quantile(u, 0.5))} / ${f(Math.max(...u))} | ${f(quantile(d, 0.5), 1)} / ${f(Math.max(...d), 1)} | ${over} of ${s.windows.length} | ${f(s.run.lossPct, 3)} | ${f(s.run.latencyMs.p99)} / ${f(s.run.latencyMs.p999)} |`;
    process.stderr.write(`${line}\n`);
    out.push(line);
    if (s.run.lossPct > 2) break;
  }
} finally {
  await gen.stop();
}
process.stdout.write(`${out.join('\n')}\n`);
