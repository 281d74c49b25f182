// Signalling at carrier rates: SIPp at both ends — a UDP phone with digest auth placing calls (INVITE with
// an RTP/AVP offer → 407 → INVITE with credentials → 100/180/200 → ACK → BYE) through the system to a SIPp
// trunk — against Kamailio 5.6 + rtpengine userspace doing the same job (auth + media anchoring), and a
// phone registering (REGISTER → 401 → REGISTER → 200). The rate is stepped; a step is clean when < 1 % of
// calls fail and p99 setup < 200 ms. Pairs alternate which system runs first; figures are medians over
// pairs with the ratio's range. CPU per call is the system's own processes' CPU (/proc) over the step.
// Each system starts fresh per pair and kind and gets 75 calls (registrations) at 25/s first, unreported.
// `npm run bench:signalling` (also part of `npm run bench`). Knobs: BENCH_SIG_PAIRS (3), BENCH_SIG_RATES
// (calls/s steps, "100,200,300,400,600"), BENCH_SIG_SECONDS (10), BENCH_SIG_REG_RATES
// ("500,1000,2000,4000,8000"), BENCH_SIG_REG_SECONDS (5), BENCH_SIG_HANGUP_MS (500), BENCH_SIG_ONLY,
// BENCH_GATEWAY_NODE_ARGS (signalling-targets.ts).
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freeSipPort, freePort } from '../test/support/ports.js';
import { percentile, runPhone, startTrunk, type SippRun } from './signalling-sipp.js';
import { cpuMs } from './proc.js';
import { startGateway, startKamailioAnchor, type SignallingTarget } from './signalling-targets.js';

const here = path.dirname(new URL(import.meta.url).pathname);
const list = (v: string | undefined, d: string): number[] => (v ?? d).split(',').map(Number).filter((n) => n > 0);
const PAIRS = Number(process.env.BENCH_SIG_PAIRS ?? 3);
const RATES = list(process.env.BENCH_SIG_RATES, '100,200,300,400,600');
const SECONDS = Number(process.env.BENCH_SIG_SECONDS ?? 10);
const REG_RATES = list(process.env.BENCH_SIG_REG_RATES, '500,1000,2000,4000,8000');
const REG_SECONDS = Number(process.env.BENCH_SIG_REG_SECONDS ?? 5);
const HANGUP_MS = Number(process.env.BENCH_SIG_HANGUP_MS ?? 500);
/** BENCH_SIG_ONLY=gateway (or kamailio+rtpengine): one system alone, e.g. to profile it. */
const ONLY = process.env.BENCH_SIG_ONLY;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

type System = 'gateway' | 'kamailio+rtpengine';

export interface Step {
  system: System;
  kind: 'call' | 'register';
  rate: number;
  pair: number;
  failedPct: number;
  p50: number;
  p99: number;
  retransmissions: number;
  cpuMsPerOp: number;
  why: Record<string, number>;
}

const clean = (s: Step): boolean => s.failedPct < 1 && s.p99 < 200;

async function start(system: System, trunkPort: number): Promise<SignallingTarget> {
  const sipPort = await freeSipPort();
  if (system === 'gateway') return startGateway({ sipPort, httpPort: await freePort('tcp'), trunkPort, rtpPorts: '30000-39999' });
  return startKamailioAnchor({ sipPort, ngPort: await freePort('udp'), trunkPort, rtpMin: 40000 });
}

async function step(target: SignallingTarget, system: System, kind: 'call' | 'register', rate: number, pair: number): Promise<Step> {
  const seconds = kind === 'call' ? SECONDS : REG_SECONDS;
  const before = cpuMs(target.pids());
  const run: SippRun = await runPhone({ kind, target: target.sipPort, localPort: await freeSipPort(), rate, count: rate * seconds, hangupMs: HANGUP_MS });
  const used = cpuMs(target.pids()) - before;
  const s: Step = {
    system, kind, rate, pair,
    failedPct: (100 * run.failed) / run.attempted,
    p50: percentile(run.times, 50),
    p99: percentile(run.times, 99),
    retransmissions: run.retransmissions,
    cpuMsPerOp: used / Math.max(1, run.succeeded),
    why: run.why,
  };
  process.stderr.write(`  ${system.padEnd(19)} ${kind.padEnd(8)} ${String(rate).padStart(5)}/s  failed ${s.failedPct.toFixed(2)}%  p50 ${s.p50.toFixed(1)} ms  p99 ${s.p99.toFixed(1)} ms  retrans ${s.retransmissions}  CPU ${s.cpuMsPerOp.toFixed(2)} ms/op${Object.keys(s.why).length ? `  ${JSON.stringify(s.why)}` : ''}\n`);
  await sleep(2000);
  return s;
}

/** One system fresh: the call steps, then (fresh again: no lingering call state) the REGISTER steps. */
async function runSystem(system: System, pair: number): Promise<Step[]> {
  const out: Step[] = [];
  const trunkPort = await freeSipPort();
  const trunk = startTrunk(trunkPort);
  try {
    for (const kind of ['call', 'register'] as const) {
      const target = await start(system, trunkPort);
      try {
        // Warm-up, not reported: JIT, lazily loaded code, the first allocations of tables (both systems).
        await runPhone({ kind, target: target.sipPort, localPort: await freeSipPort(), rate: 25, count: 75, hangupMs: HANGUP_MS });
        await sleep(1000);
        for (const rate of kind === 'call' ? RATES : REG_RATES) {
          const s = await step(target, system, kind, rate, pair);
          out.push(s);
          if (s.failedPct > 20) break; // far past its limit: the next step says nothing more
        }
      } finally {
        await target.stop();
      }
    }
  } finally {
    await trunk.stop();
  }
  return out;
}

const median = (v: number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** Highest clean rate of one system in one pair (0 when none). */
function capacity(steps: Step[], system: System, kind: 'call' | 'register', pair: number): number {
  return Math.max(0, ...steps.filter((s) => s.system === system && s.kind === kind && s.pair === pair && clean(s)).map((s) => s.rate));
}

export function signallingReport(steps: Step[]): string {
  const pairs = [...new Set(steps.map((s) => s.pair))];
  const lines: string[] = [];
  for (const kind of ['call', 'register'] as const) {
    const what = kind === 'call' ? 'authenticated calls (407 + INVITE + 100/180/200/ACK/BYE, RTP/AVP anchored)' : 'REGISTER with digest (401 + REGISTER + 200)';
    lines.push(`${what}: medians over ${pairs.length} alternating pairs`);
    lines.push(`  rate/s    system               failed %   p50 ms   p99 ms  retrans  CPU ms/op`);
    for (const rate of kind === 'call' ? RATES : REG_RATES) {
      for (const system of ['gateway', 'kamailio+rtpengine'] as const) {
        const at = steps.filter((s) => s.kind === kind && s.rate === rate && s.system === system);
        if (at.length === 0) continue;
        const m = (f: (s: Step) => number) => median(at.map(f));
        lines.push(`  ${String(rate).padStart(6)}    ${system.padEnd(19)} ${m((s) => s.failedPct).toFixed(2).padStart(8)} ${m((s) => s.p50).toFixed(1).padStart(8)} ${m((s) => s.p99).toFixed(1).padStart(8)} ${String(m((s) => s.retransmissions)).padStart(8)} ${m((s) => s.cpuMsPerOp).toFixed(2).padStart(10)}`);
      }
    }
    const ours = pairs.map((p) => capacity(steps, 'gateway', kind, p));
    const anchor = pairs.map((p) => capacity(steps, 'kamailio+rtpengine', kind, p));
    const ratios = pairs.map((_, i) => (anchor[i]! > 0 ? ours[i]! / anchor[i]! : Number.NaN));
    const capped = (v: number, rates: number[]) => (v >= Math.max(...rates) ? `≥ ${v}` : String(v));
    const rates = kind === 'call' ? RATES : REG_RATES;
    lines.push(`  clean rate (< 1 % failed, p99 < 200 ms): gateway ${capped(median(ours), rates)}/s, kamailio+rtpengine ${capped(median(anchor), rates)}/s;` +
      ` ratio ${median(ratios).toFixed(2)}× (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})  [per pair: ${ours.join('/')} vs ${anchor.join('/')}]\n`);
  }
  return lines.join('\n');
}

export async function measureSignalling(): Promise<Step[]> {
  execFileSync('npm', ['run', '--silent', 'build:gateway'], { cwd: path.resolve(here, '..'), stdio: 'ignore' });
  const steps: Step[] = [];
  for (let pair = 1; pair <= PAIRS; pair++) {
    const order: System[] = pair % 2 ? ['gateway', 'kamailio+rtpengine'] : ['kamailio+rtpengine', 'gateway'];
    for (const system of order.filter((s) => ONLY === undefined || s === ONLY)) steps.push(...(await runSystem(system, pair)));
  }
  return steps;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(here, 'signalling.ts')) {
  const steps = await measureSignalling();
  process.stdout.write(signallingReport(steps));
  mkdirSync(path.join(here, 'results'), { recursive: true });
  writeFileSync(path.join(here, 'results', 'signalling.json'), JSON.stringify(steps, null, 2));
}
