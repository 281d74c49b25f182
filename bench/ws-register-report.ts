// The text report of bench/ws-register.ts: medians over pairs, the gateway / Kamailio ratio with its range.
import type { OpResult } from './ws-register-load.js';
import type { System } from './ws-register-targets.js';
import type { RateStep, WsRun } from './ws-register.js';

const SYSTEMS: System[] = ['gateway', 'kamailio'];

export const cleanStep = (r: OpResult): boolean => r.failed / Math.max(1, r.attempted) < 0.01 && r.p99 < 200;

export const median = (v: number[]): number => {
  const s = v.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export const rssPerClient = (r: WsRun): number => (r.after.rssKiB - r.before.rssKiB) / Math.max(1, r.clients);
export const pssPerClient = (r: WsRun): number => (r.after.pssKiB - r.before.pssKiB) / Math.max(1, r.clients);

/** Highest clean rate of one run (0 when none). */
export const cleanRate = (r: WsRun): number => Math.max(0, ...r.steps.filter((s) => cleanStep(s.result)).map((s) => s.rate));

/** "1.23× (0.98–1.40)" over pairs where both systems ran. */
function ratio(runs: WsRun[], f: (r: WsRun) => number): string {
  const pairs = [...new Set(runs.map((r) => r.pair))];
  const values = pairs.flatMap((p) => {
    const ours = runs.find((r) => r.pair === p && r.system === 'gateway');
    const anchor = runs.find((r) => r.pair === p && r.system === 'kamailio');
    return ours && anchor && f(anchor) > 0 ? [f(ours) / f(anchor)] : [];
  });
  if (values.length === 0) return 'n/a';
  return `${median(values).toFixed(2)}× (${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)})`;
}

function memoryLines(runs: WsRun[]): string[] {
  const lines = [`  system      processes  RSS before → after MiB   RSS KiB/client  PSS KiB/client  registered   set-up s`];
  for (const system of SYSTEMS) {
    const at = runs.filter((r) => r.system === system);
    if (at.length === 0) continue;
    const m = (f: (r: WsRun) => number): number => median(at.map(f));
    lines.push(`  ${system.padEnd(10)} ${m((r) => r.after.processes).toFixed(0).padStart(10)}  ${(m((r) => r.before.rssKiB) / 1024).toFixed(1).padStart(9)} → ${(m((r) => r.after.rssKiB) / 1024).toFixed(1).padEnd(9)}` +
      `  ${m(rssPerClient).toFixed(1).padStart(14)}  ${m(pssPerClient).toFixed(1).padStart(14)}  ${m((r) => r.clients).toFixed(0).padStart(10)}  ${(m((r) => r.connect.ms) / 1000).toFixed(1).padStart(9)}` +
      `   [per pair RSS KiB/client: ${at.map((r) => rssPerClient(r).toFixed(1)).join(', ')}]`);
  }
  lines.push(`  ratio gateway / kamailio per client: RSS ${ratio(runs, rssPerClient)}, PSS ${ratio(runs, pssPerClient)}`);
  return lines;
}

function rateLines(runs: WsRun[], rates: readonly number[]): string[] {
  const lines = [`  rate/s  system      failed %   p50 ms   p99 ms  CPU ms/REGISTER  CPU % core  generator % core`];
  for (const rate of rates) {
    for (const system of SYSTEMS) {
      const at: RateStep[] = runs.filter((r) => r.system === system).flatMap((r) => r.steps.filter((s) => s.rate === rate));
      if (at.length === 0) continue;
      const m = (f: (s: RateStep) => number): number => median(at.map(f));
      lines.push(`  ${String(rate).padStart(6)}  ${system.padEnd(10)} ${m((s) => (100 * s.result.failed) / s.result.attempted).toFixed(2).padStart(8)} ${m((s) => s.result.p50).toFixed(1).padStart(8)} ${m((s) => s.result.p99).toFixed(1).padStart(8)}` +
        ` ${m((s) => s.cpuMsPerOp).toFixed(3).padStart(16)} ${m((s) => s.cpuPct).toFixed(0).padStart(11)} ${m((s) => s.generatorCpuPct).toFixed(0).padStart(17)}`);
    }
  }
  const first = rates.find((rate) => runs.some((r) => r.steps.some((s) => s.rate === rate)));
  if (first !== undefined) {
    const at = (r: WsRun): number => r.steps.find((s) => s.rate === first)?.cpuMsPerOp ?? Number.NaN;
    lines.push(`  CPU per REGISTER at ${first}/s, gateway / kamailio: ${ratio(runs, at)}`);
  }
  const max = Math.max(...rates);
  const capped = (v: number): string => (Number.isNaN(v) ? 'n/a' : v >= max ? `≥ ${v}/s` : `${v}/s`);
  const per = (system: System): string => runs.filter((r) => r.system === system).map((r) => cleanRate(r)).join('/');
  lines.push(`  clean rate (< 1 % failed, p99 < 200 ms): gateway ${capped(median(runs.filter((r) => r.system === 'gateway').map(cleanRate)))},` +
    ` kamailio ${capped(median(runs.filter((r) => r.system === 'kamailio').map(cleanRate)))}; ratio ${ratio(runs, cleanRate)}  [per pair: ${per('gateway')} vs ${per('kamailio')}]`);
  return lines;
}

export function wsRegisterReport(runs: WsRun[], rates: readonly number[]): string {
  if (runs.length === 0) return '';
  const pairs = new Set(runs.map((r) => r.pair)).size;
  const loads = runs.map((r) => r.load1);
  return [
    `WebSocket registrar, ${median(runs.map((r) => r.clients))} idle registered clients (digest, Expires 600), medians over ${pairs} alternating pairs; load average ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}`,
    ...memoryLines(runs),
    '',
    'REGISTER over WebSocket (401 + REGISTER with credentials + 200 each), rate steps over the same clients',
    ...rateLines(runs, rates),
    '',
  ].join('\n');
}
