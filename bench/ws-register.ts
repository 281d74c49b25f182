// The WebSocket registrar against Kamailio's (issue 12: "memory per idle registered WebSocket client and
// REGISTER rate measured against Kamailio's WS registrar"). Per system, started fresh (ws-register-targets.ts):
// 50 warm-up clients register, re-register and leave (code loaded, JIT warm, tables allocated, both systems);
// memory is read once settled; BENCH_WS_CLIENTS clients (default 2,000, each from its own loopback address)
// connect over WebSocket and REGISTER with digest (ws-register-load.ts: as sip.js does), then idle; memory is
// read again once settled: (after − before) / clients, RSS (Kamailio: summed over its processes) and PSS
// (shared pages split between the processes: the fairer sum). Then the same clients re-REGISTER (401 +
// REGISTER + 200 each time) at rate steps; a step is clean when < 1 % fail and p99 < 200 ms; CPU per
// REGISTER is the system's own processes' (/proc) over the step per completed one; the generator's own CPU
// is reported beside it. Pairs alternate which system goes first; figures are medians over pairs with the
// ratio's range. `npm run bench:ws` (inside `unshare -n` like the tests; part of `npm run bench` unless
// BENCH_SKIP_WS=1). Knobs: BENCH_WS_CLIENTS (2000), BENCH_WS_PAIRS (3), BENCH_WS_RATES
// ("250,500,1000,2000,4000,8000"), BENCH_WS_STEP_SECONDS (5), BENCH_WS_SETTLE_SECONDS (10: idle before memory
// is sampled, then until three samples 1 s apart agree within 1 %), BENCH_WS_LOAD_PROCESSES (2: client load
// processes, each with its share of clients and rate), BENCH_WS_ONLY (gateway or kamailio).
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { freePort, freeSipPort } from '../test/support/ports.js';
import { cpuMs, procKiB } from './proc.js';
import { percentile, type LoadCommand, type LoadReply, type OpResult } from './ws-register-load.js';
import { wsRegisterReport } from './ws-register-report.js';
import { startGateway, startKamailio, type System, type WsTarget } from './ws-register-targets.js';

const here = path.dirname(new URL(import.meta.url).pathname);
const list = (v: string | undefined, d: string): number[] => (v ?? d).split(',').map(Number).filter((n) => n > 0);
const CLIENTS = Number(process.env.BENCH_WS_CLIENTS ?? 2000);
const PAIRS = Number(process.env.BENCH_WS_PAIRS ?? 3);
const RATES = list(process.env.BENCH_WS_RATES, '250,500,1000,2000,4000,8000');
const WS_RATES: readonly number[] = RATES;
const STEP_SECONDS = Number(process.env.BENCH_WS_STEP_SECONDS ?? 5);
const SETTLE_SECONDS = Number(process.env.BENCH_WS_SETTLE_SECONDS ?? 10);
const ONLY = process.env.BENCH_WS_ONLY;
const LOAD_PROCESSES = Math.max(1, Number(process.env.BENCH_WS_LOAD_PROCESSES ?? 2));
const WARMUP = 50;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface Memory {
  rssKiB: number;
  pssKiB: number;
  processes: number;
  /** The gateway's V8 heap in use (its /metrics), KiB. */
  heapUsedKiB?: number;
}

export interface RateStep {
  rate: number;
  result: OpResult;
  /** The system's CPU per completed REGISTER (ms) and its share of one core over the step (%). */
  cpuMsPerOp: number;
  cpuPct: number;
  generatorCpuPct: number;
  /** The gateway's event-loop delay p99 over the step (its /metrics), ms. */
  loopP99Ms?: number;
}

export interface WsRun {
  system: System;
  pair: number;
  clients: number;
  load1: number;
  connect: OpResult;
  before: Memory;
  after: Memory;
  steps: RateStep[];
}

function memory(pids: number[]): Memory {
  const sum = (file: 'status' | 'smaps_rollup', field: string): number => pids.reduce((n, p) => n + procKiB(p, file, field), 0);
  return { rssKiB: sum('status', 'VmRSS'), pssKiB: sum('smaps_rollup', 'Pss'), processes: pids.length };
}

/** Memory after SETTLE_SECONDS idle, once three samples 1 s apart agree within 1 % (at most 30). */
async function settled(target: WsTarget): Promise<Memory> {
  await sleep(SETTLE_SECONDS * 1000);
  const seen: Memory[] = [];
  for (let i = 0; i < 30; i++) {
    seen.push(memory(target.pids()));
    const last = seen.slice(-3).map((m) => m.rssKiB);
    if (last.length === 3 && Math.max(...last) - Math.min(...last) <= 0.01 * Math.max(...last)) break;
    await sleep(1000);
  }
  const heap = await target.metrics?.();
  return { ...seen.at(-1)!, heapUsedKiB: heap?.heapUsedKiB };
}

/** One load process (its CPU apart from the systems' and the bench's). */
class LoadProcess {
  private readonly child: ChildProcess = fork(path.join(here, 'ws-register-load.ts'), [], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });

  run(c: LoadCommand): Promise<OpResult> {
    return new Promise((resolve, reject) => {
      const onExit = (): void => reject(new Error('ws load generator exited'));
      this.child.once('exit', onExit);
      this.child.once('message', (m: LoadReply) => {
        this.child.off('exit', onExit);
        if (m.type === 'done') resolve(m.result);
        else reject(new Error(m.message));
      });
      this.child.send(c);
    });
  }

  stop(): void {
    this.child.disconnect();
  }
}

function merge(parts: OpResult[]): OpResult {
  const sum = (f: (r: OpResult) => number): number => parts.reduce((n, r) => n + f(r), 0);
  const why: Record<string, number> = {};
  for (const r of parts) for (const [k, v] of Object.entries(r.why)) why[k] = (why[k] ?? 0) + v;
  const times = parts.flatMap((r) => r.times).sort((a, b) => a - b);
  return {
    attempted: sum((r) => r.attempted), ok: sum((r) => r.ok), failed: sum((r) => r.failed), why, retries: sum((r) => r.retries),
    p50: percentile(times, 50), p99: percentile(times, 99), max: times.at(-1) ?? Number.NaN, times: [], // not kept
    ms: Math.max(...parts.map((r) => r.ms)), cpuMs: sum((r) => r.cpuMs), loopP99: Math.max(...parts.map((r) => r.loopP99)),
  };
}

/** The client load: BENCH_WS_LOAD_PROCESSES processes (2), each with its share of the clients and the rate;
 *  their results merged (CPU summed, the worst event-loop delay). */
export class Load {
  private readonly procs: LoadProcess[];

  constructor(processes = LOAD_PROCESSES) {
    this.procs = Array.from({ length: processes }, () => new LoadProcess());
  }

  async run(c: LoadCommand): Promise<OpResult> {
    const n = this.procs.length;
    const parts = await Promise.all(this.procs.map((p, k) => {
      if (c.type === 'connect') return p.run({ ...c, shard: [k, n], concurrency: Math.ceil(c.concurrency / n) });
      if (c.type === 'step') return p.run({ ...c, rate: c.rate / n });
      return p.run(c);
    }));
    return merge(parts);
  }

  stop(): void {
    for (const p of this.procs) p.stop();
  }
}

export async function start(system: System, users = CLIENTS + WARMUP): Promise<WsTarget> {
  if (system === 'gateway') return startGateway({ httpPort: await freePort('tcp'), sipPort: await freeSipPort(), users });
  return startKamailio({ port: await freePort('tcp'), users });
}

async function rateSteps(load: Load, target: WsTarget): Promise<RateStep[]> {
  const steps: RateStep[] = [];
  for (const rate of RATES) {
    await target.metrics?.(); // resets its event-loop delay histogram
    const before = cpuMs(target.pids());
    const result = await load.run({ type: 'step', from: 0, to: CLIENTS, rate, seconds: STEP_SECONDS });
    const used = cpuMs(target.pids()) - before;
    const loopP99Ms = (await target.metrics?.())?.loopP99Ms;
    const s: RateStep = { rate, result, cpuMsPerOp: used / Math.max(1, result.ok), cpuPct: (100 * used) / result.ms, generatorCpuPct: (100 * result.cpuMs) / result.ms, loopP99Ms };
    steps.push(s);
    const r = result;
    process.stderr.write(`  ${target.name.padEnd(9)} ${String(rate).padStart(5)} REGISTER/s  failed ${((100 * r.failed) / r.attempted).toFixed(2)}%  p50 ${r.p50.toFixed(1)} ms  p99 ${r.p99.toFixed(1)} ms  CPU ${s.cpuMsPerOp.toFixed(3)} ms/op (${s.cpuPct.toFixed(0)} % of a core)  ${loopP99Ms === undefined ? '' : `loop p99 ${loopP99Ms.toFixed(0)} ms  `}generator ${s.generatorCpuPct.toFixed(0)} % (loop p99 ${r.loopP99.toFixed(0)} ms)${Object.keys(r.why).length ? `  ${JSON.stringify(r.why)}` : ''}\n`);
    await sleep(1000);
    if (r.failed > 0.2 * r.attempted) break; // far past its limit
  }
  return steps;
}

async function runSystem(load: Load, system: System, pair: number): Promise<WsRun> {
  const load1 = loadavg()[0]!;
  const target = await start(system);
  try {
    const url = target.url;
    const warm = await load.run({ type: 'connect', url, domain: 'bench.test', from: CLIENTS, to: CLIENTS + WARMUP, concurrency: 10 });
    if (warm.ok === 0) throw new Error(`${system}: no warm-up registration succeeded: ${JSON.stringify(warm)}`);
    await load.run({ type: 'step', from: CLIENTS, to: CLIENTS + WARMUP, rate: 100, seconds: 2 });
    await load.run({ type: 'close', from: CLIENTS, to: CLIENTS + WARMUP });
    const before = await settled(target);
    const connect = await load.run({ type: 'connect', url, domain: 'bench.test', from: 0, to: CLIENTS, concurrency: 32 });
    const after = await settled(target);
    const perClient = (after.rssKiB - before.rssKiB) / connect.ok;
    process.stderr.write(`  ${system.padEnd(9)} pair ${pair}: ${connect.ok}/${CLIENTS} registered in ${(connect.ms / 1000).toFixed(1)} s${connect.retries ? ` (${connect.retries} retried after 503)` : ''}${connect.failed ? ` (${JSON.stringify(connect.why)})` : ''};  RSS ${(before.rssKiB / 1024).toFixed(1)} → ${(after.rssKiB / 1024).toFixed(1)} MiB = ${perClient.toFixed(1)} KiB/client, PSS ${((after.pssKiB - before.pssKiB) / connect.ok).toFixed(1)} KiB/client${after.heapUsedKiB === undefined ? '' : `, V8 heap ${((after.heapUsedKiB - before.heapUsedKiB!) / connect.ok).toFixed(1)} KiB/client`} (load ${load1.toFixed(1)})\n`);
    const steps = await rateSteps(load, target);
    await load.run({ type: 'close', from: 0, to: CLIENTS });
    return { system, pair, clients: connect.ok, load1, connect, before, after, steps };
  } finally {
    await target.stop();
  }
}

function checkDescriptors(): void {
  const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
  const soft = m ? Number(m[1]) : Number.POSITIVE_INFINITY;
  if (soft < CLIENTS + WARMUP + 512) throw new Error(`ulimit -n is ${soft}: raise it to at least ${CLIENTS + WARMUP + 512} for ${CLIENTS} clients (ulimit -n ${CLIENTS + 1024})`);
}

export async function measureWsRegister(): Promise<WsRun[]> {
  checkDescriptors();
  execFileSync('npm', ['run', '--silent', 'build:gateway'], { cwd: path.resolve(here, '..'), stdio: 'ignore' });
  const load = new Load();
  const runs: WsRun[] = [];
  try {
    for (let pair = 1; pair <= PAIRS; pair++) {
      const order: System[] = pair % 2 ? ['gateway', 'kamailio'] : ['kamailio', 'gateway'];
      for (const system of order.filter((s) => ONLY === undefined || s === ONLY)) runs.push(await runSystem(load, system, pair));
    }
  } finally {
    load.stop();
  }
  return runs;
}

export { wsRegisterReport, WS_RATES };

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(here, 'ws-register.ts')) {
  const runs = await measureWsRegister();
  process.stdout.write(wsRegisterReport(runs, RATES));
  mkdirSync(path.join(here, 'results'), { recursive: true });
  writeFileSync(path.join(here, 'results', 'ws-register.json'), JSON.stringify(runs, null, 2));
}
