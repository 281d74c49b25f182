// SRTP⇄RTP relay benchmark: the path every browser call takes (browser SRTP ⇄ trunk RTP), ours beside
// rtpengine userspace doing the same job, with a load generator doing real STUN + DTLS + SRTP per call,
// 50 pkt/s each way, a send time in every payload: by default the C one of bench/loadgen-c (its own
// process, one thread; BENCH_SRTP_GEN=js: the TypeScript one of bench/loadgen, two worker threads of
// this process). Only the relay's CPU is measured (/proc/<pid>/stat); the generator's is reported apart.
// Alone: npx tsx bench/srtp-relay.ts (knobs as in runSrtpBench's options, from BENCH_SRTP_* env).
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { answerCommand, offerCommand } from '../gateway/media/rtpengine/flags.js';
import { startEmbedded, startRtpengine, type BenchEngine } from './engines.js';
import { Histogram } from './loadgen/common.js';
import { CLoadGenerator } from './loadgen-c/index.js';
import { LoadGenerator, type SrtpLoadGenerator } from './loadgen/index.js';

const TICKS_PER_SECOND = 100; // Linux USER_HZ
const SETUP_CONCURRENCY = 16;

/** utime + stime of a process (ms); `user`: utime only. */
function procCpuMs(pid: number | 'self', user = false): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + (user ? 0 : Number(fields[12]))) * 1000) / TICKS_PER_SECOND;
}

function procRssKiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'))!;
  return Number(line.split(/\s+/)[1]);
}

const fmtMs = (ms: number): string => ms.toFixed(2);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface SrtpRun {
  engine: string;
  calls: number;
  /** Wall time to set up all calls (offer, answer, STUN, DTLS), SETUP_CONCURRENCY at a time. */
  setupMs: number;
  /** Set-ups whose STUN or DTLS failed and were made again. */
  setupFailures: number;
  /** Set-ups the engine refused as too busy (admission control) and that were made again later. */
  setupRefused: number;
  /** Measured phase: packets sent by both sides, received by both sides. */
  sent: number;
  received: number;
  lossPct: number;
  /** Per direction: SRTP from the browser side to the trunk side, and RTP the other way. */
  lossToTrunkPct: number;
  lossToBrowserPct: number;
  cpuMs: number;
  measureMs: number;
  usPerPacket: number;
  /** Of it, user space only (utime): the part a change to the relay's own code moves. */
  userUsPerPacket: number;
  /** Share of one core the relay used while measured. */
  corePct: number;
  latencyMs: { p50: number; p99: number; p999: number; max: number };
  rssKiBPerCall: number;
  rssMiB: number;
  /** The embedded engine's event-loop delay during the measured phase. */
  lagMs?: { p50: number; p99: number; max: number };
  /** The generator's pacing lateness (p99 ms) and its own CPU share: a generator that fell behind shows here. */
  generatorLateP99Ms: number;
  generatorCorePct: number;
  /** Datagrams the generator's own sockets dropped (its receive queues full), both sides. */
  generatorDropped: number;
}

/** 'baseline': the embedded engine of another copy of the tree (BENCH_SRTP_BASELINE=<its bench/ folder>),
 *  to A/B a change of the per-packet path (BENCH_SRTP_ONLY=embedded,baseline). */
export type EngineKind = 'embedded' | 'rtpengine' | 'baseline';

export function startEngine(kind: EngineKind): Promise<BenchEngine> {
  if (kind === 'embedded') return startEmbedded(36000);
  if (kind === 'baseline') return startEmbedded(36000, process.env.BENCH_SRTP_BASELINE);
  // The gateway's own flags toward a trunk (rtpengine/flags.ts: RTP/AVP, ICE removed, rtcp-mux demuxed,
  // ICE-lite toward the browser, strict source) and its answer (no DTLS flag: rtpengine answers a browser's
  // actpass with setup:active and is the DTLS client, where the embedded engine answers passive).
  const offer = offerCommand({ callId: '', fromTag: '', sdp: '', toProfile: 'rtp' });
  const answer = answerCommand({ callId: '', fromTag: '', toTag: '', sdp: '' });
  return startRtpengine(22222, 30000, { offer, answer });
}

const SETUP_TRIES = 3;
/** A set-up the engine refused (admission control) is made again after this, for at most REFUSED_FOR_MS. */
const REFUSED_RETRY_MS = 250;
const REFUSED_FOR_MS = 60_000;
/** Call-IDs are never reused: rtpengine keeps a deleted call for its delete delay (30 s by default). */
let round = 0;

/** Sets up `calls` calls; a call whose STUN or DTLS fails is deleted and set up afresh (a browser would
 *  retry too). Returns how many set-ups failed so. */
async function setUp(engine: BenchEngine, gen: SrtpLoadGenerator, calls: number): Promise<{ failed: number; refused: number; ids: string[] }> {
  let next = 0;
  const prefix = `srtp-${++round}`;
  const ids = Array.from({ length: calls }, (_, i) => `${prefix}-${i}`);
  let failed = 0;
  let refused = 0;
  const refusedUntil = performance.now() + REFUSED_FOR_MS;
  const one = async (i: number): Promise<void> => {
    const callId = ids[i]!;
    for (let attempt = 1; ; attempt++) {
      try {
        const toTrunk = await engine.offer(callId, 'browser', await gen.offer(i));
        const toBrowser = await engine.answer(callId, 'browser', 'trunk', await gen.answer(i, toTrunk));
        await gen.connect(i, toBrowser);
        return;
      } catch (err) {
        await engine.delete(callId);
        await gen.drop(i);
        // Refused by the engine's admission control (too busy now, as a 503 with Retry-After would say):
        // a caller tries again a little later; that is neither a failed set-up nor an attempt used up.
        if (/overloaded/.test((err as Error).message) && performance.now() < refusedUntil) {
          attempt--;
          refused++;
          await sleep(REFUSED_RETRY_MS);
          continue;
        }
        failed++;
        if (attempt >= SETUP_TRIES) throw new Error(`call ${i}: ${(err as Error).message} (${attempt} tries)`);
      }
    }
  };
  const lane = async (): Promise<void> => {
    while (next < calls) await one(next++);
  };
  await Promise.all(Array.from({ length: Math.min(SETUP_CONCURRENCY, calls) }, lane));
  return { failed, refused, ids };
}

/** One call per core set up at once and torn down before anything is measured: both DTLS ends load their
 *  library (the embedded engine loads werift with its first browser call) and every media worker is started
 *  (media.workers auto: the others start with the first call placed on them; least-loaded placement puts
 *  concurrent calls on different workers), so neither the set-up race nor a worker's start and library count
 *  against the calls measured. */
async function primeDtls(engine: BenchEngine, gen: SrtpLoadGenerator): Promise<void> {
  const { ids } = await setUp(engine, gen, availableParallelism());
  for (const id of ids) await engine.delete(id);
  await gen.closeCalls();
}

/** One engine, `calls` calls: set up, warm-up, measured phase, tear-down. */
export async function runSrtpRelay(engine: BenchEngine, gen: SrtpLoadGenerator, calls: number, warmupMs: number, measureMs: number): Promise<SrtpRun> {
  await primeDtls(engine, gen);
  await engine.settle();
  const rss0 = procRssKiB(engine.pid);
  const t0 = performance.now();
  const { failed: setupFailures, refused: setupRefused, ids } = await setUp(engine, gen, calls);
  const setupMs = performance.now() - t0;
  const running = gen.run(warmupMs, measureMs);
  await sleep(warmupMs + 5);
  await engine.lag?.();
  const cpu0 = procCpuMs(engine.pid);
  const user0 = procCpuMs(engine.pid, true);
  const gen0 = gen.cpuMs();
  const w0 = performance.now();
  await sleep(measureMs);
  const cpuMs = procCpuMs(engine.pid) - cpu0;
  const userMs = procCpuMs(engine.pid, true) - user0;
  const genMs = gen.cpuMs() - gen0;
  const wallMs = performance.now() - w0;
  const lagMs = await engine.lag?.();
  const { browser, trunk } = await running;
  await engine.settle();
  const rss1 = procRssKiB(engine.pid);
  for (const id of ids) await engine.delete(id);
  await gen.closeCalls();
  const latency = new Histogram();
  latency.merge(browser.latency);
  latency.merge(trunk.latency);
  const sent = browser.sent + trunk.sent;
  const received = browser.received + trunk.received;
  return {
    engine: engine.name,
    calls,
    setupMs,
    setupFailures,
    setupRefused,
    sent,
    received,
    lossPct: (100 * (sent - received)) / Math.max(sent, 1),
    lossToTrunkPct: (100 * (browser.sent - trunk.received)) / Math.max(browser.sent, 1),
    lossToBrowserPct: (100 * (trunk.sent - browser.received)) / Math.max(trunk.sent, 1),
    cpuMs,
    measureMs: wallMs,
    usPerPacket: (cpuMs * 1000) / Math.max(received, 1),
    userUsPerPacket: (userMs * 1000) / Math.max(received, 1),
    corePct: (100 * cpuMs) / wallMs,
    latencyMs: { p50: latency.quantileMs(0.5), p99: latency.quantileMs(0.99), p999: latency.quantileMs(0.999), max: latency.max / 1000 },
    rssKiBPerCall: (rss1 - rss0) / calls,
    rssMiB: rss1 / 1024,
    lagMs,
    generatorLateP99Ms: Math.max(browser.lateP99Ms, trunk.lateP99Ms),
    generatorCorePct: (100 * genMs) / wallMs,
    generatorDropped: (browser.dropped ?? 0) + (trunk.dropped ?? 0),
  };
}

async function withEngine<T>(kind: EngineKind, fn: (engine: BenchEngine) => Promise<T>): Promise<T> {
  const engine = await startEngine(kind);
  try {
    return await fn(engine);
  } finally {
    await engine.stop();
  }
}

export interface SrtpBenchOptions {
  calls: number;
  pairs: number;
  warmupMs: number;
  measureMs: number;
  /** Call counts for the capacity steps (each engine, alternating, until its loss reaches maxLossPct). */
  steps: number[];
  stepMeasureMs: number;
  maxLossPct: number;
}

export interface SrtpBenchResult {
  options: SrtpBenchOptions;
  /** Which load generator ran (its kind). */
  generator: string;
  loadAverage: number[];
  pairs: Array<{ embedded: SrtpRun; rtpengine: SrtpRun }>;
  steps: Array<{ calls: number; embedded?: SrtpRun; rtpengine?: SrtpRun }>;
}

export async function runSrtpBench(options: SrtpBenchOptions, log: (line: string) => void = () => {}): Promise<SrtpBenchResult> {
  const gen = createGenerator();
  await gen.ready();
  const loadAverage = (await import('node:os')).loadavg();
  const result: SrtpBenchResult = { options, generator: gen.kind, loadAverage, pairs: [], steps: [] };
  try {
    for (let p = 0; p < options.pairs; p++) {
      // Profiling or A/B runs: only these engines, logged per run (not in the table).
      const only = process.env.BENCH_SRTP_ONLY?.split(',') as EngineKind[] | undefined;
      if (only) {
        for (const kind of only) {
          const run = await withEngine(kind, (e) => runSrtpRelay(e, gen, options.calls, options.warmupMs, options.measureMs));
          log(`  ${kind}: ${run.usPerPacket.toFixed(2)} µs/pkt (user ${run.userUsPerPacket.toFixed(2)}), p50 ${fmtMs(run.latencyMs.p50)} p99 ${fmtMs(run.latencyMs.p99)} ms, lag p99 ${fmtMs(run.lagMs?.p99 ?? NaN)} ms, loss ${run.lossPct.toFixed(3)} % (to trunk ${run.lossToTrunkPct.toFixed(3)}, to browser ${run.lossToBrowserPct.toFixed(3)}), generator late p99 ${fmtMs(run.generatorLateP99Ms)} ms, RSS ${run.rssKiBPerCall.toFixed(1)} KiB/call (${run.rssMiB.toFixed(1)} MiB), ${run.corePct.toFixed(0)} % of a core`);
        }
        continue;
      }
      const embedded = await withEngine('embedded', (e) => runSrtpRelay(e, gen, options.calls, options.warmupMs, options.measureMs));
      log(`  pair ${p + 1}: embedded ${embedded.usPerPacket.toFixed(2)} µs/pkt`);
      const rtpengine = await withEngine('rtpengine', (e) => runSrtpRelay(e, gen, options.calls, options.warmupMs, options.measureMs));
      log(`  pair ${p + 1}: rtpengine ${rtpengine.usPerPacket.toFixed(2)} µs/pkt`);
      result.pairs.push({ embedded, rtpengine });
    }
    const alive = new Set<EngineKind>(['embedded', 'rtpengine']);
    for (const calls of options.steps) {
      const step: SrtpBenchResult['steps'][number] = { calls };
      for (const kind of ['embedded', 'rtpengine'] as const) {
        if (!alive.has(kind)) continue;
        const run = await withEngine(kind, (e) => runSrtpRelay(e, gen, calls, options.warmupMs, options.stepMeasureMs));
        step[kind] = run;
        log(`  step ${calls} calls: ${kind} loss ${run.lossPct.toFixed(3)} %, ${run.corePct.toFixed(0)} % of a core`);
        if (run.lossPct >= options.maxLossPct) alive.delete(kind);
      }
      result.steps.push(step);
      if (alive.size === 0) break;
    }
  } finally {
    await gen.stop();
  }
  return result;
}

/** BENCH_SRTP_GEN: 'c' (default; a build failure throws) or 'js'. */
function createGenerator(kind = process.env.BENCH_SRTP_GEN ?? 'c'): SrtpLoadGenerator {
  if (kind === 'js') return new LoadGenerator();
  if (kind === 'c') return new CLoadGenerator();
  throw new Error(`BENCH_SRTP_GEN=${kind}: 'c' or 'js'`);
}

export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): SrtpBenchOptions {
  const num = (key: string, dflt: number): number => (env[key] ? Number(env[key]) : dflt);
  const steps = env.BENCH_SRTP_STEPS ?? '300,450,600';
  return {
    calls: num('BENCH_SRTP_CALLS', 100),
    pairs: num('BENCH_SRTP_PAIRS', 3),
    warmupMs: num('BENCH_SRTP_WARMUP_MS', 1000),
    measureMs: num('BENCH_SRTP_SECONDS', 5) * 1000,
    steps: steps.split(',').filter((s) => s.trim() !== '').map(Number),
    stepMeasureMs: num('BENCH_SRTP_STEP_SECONDS', 4) * 1000,
    maxLossPct: num('BENCH_SRTP_MAX_LOSS_PCT', 0.1),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { srtpReport } = await import('./srtp-report.js');
  const result = await runSrtpBench(optionsFromEnv(), (line) => process.stderr.write(`${line}\n`));
  process.stdout.write(srtpReport(result));
}
