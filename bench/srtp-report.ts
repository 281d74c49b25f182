// The SRTP⇄RTP benchmark's table: medians over the alternating pairs, and per-pair ratios
// (embedded / rtpengine) as median and range, so a noisy machine shows as a wide range, not a wrong figure.
import type { SrtpBenchResult, SrtpRun } from './srtp-relay.js';

function median(values: number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

const fmt = (n: number, digits = 2): string => (Number.isFinite(n) ? n.toFixed(digits) : '–');

type Figure = { label: string; of: (r: SrtpRun) => number; digits?: number; unit: string };

const FIGURES: Figure[] = [
  { label: 'CPU per relayed packet', of: (r) => r.usPerPacket, unit: 'µs' },
  { label: '… of it in user space', of: (r) => r.userUsPerPacket, unit: 'µs' },
  { label: 'relay CPU (share of one core)', of: (r) => r.corePct, unit: '%', digits: 1 },
  { label: 'added latency p50', of: (r) => r.latencyMs.p50, unit: 'ms' },
  { label: 'added latency p99', of: (r) => r.latencyMs.p99, unit: 'ms' },
  { label: 'added latency p99.9', of: (r) => r.latencyMs.p999, unit: 'ms' },
  { label: 'RSS per active call', of: (r) => r.rssKiBPerCall, unit: 'KiB', digits: 0 },
  { label: 'RSS with the calls up', of: (r) => r.rssMiB, unit: 'MiB', digits: 1 },
  { label: 'loss', of: (r) => r.lossPct, unit: '%', digits: 3 },
  { label: 'set-up of all calls (STUN+DTLS)', of: (r) => r.setupMs / 1000, unit: 's' },
  { label: 'failed set-ups (made again)', of: (r) => r.setupFailures, unit: '', digits: 0 },
  { label: 'set-ups refused as too busy (made again)', of: (r) => r.setupRefused, unit: '', digits: 0 },
];

function pairRow(f: Figure, pairs: SrtpBenchResult['pairs']): string {
  const ours = median(pairs.map((p) => f.of(p.embedded)));
  const theirs = median(pairs.map((p) => f.of(p.rtpengine)));
  const ratios = pairs.map((p) => f.of(p.embedded) / f.of(p.rtpengine)).filter(Number.isFinite);
  const ratio = ratios.length ? `${fmt(median(ratios))}× (${fmt(Math.min(...ratios))}–${fmt(Math.max(...ratios))})` : '–';
  const d = f.digits ?? 2;
  return `| ${f.label} | ${fmt(ours, d)} ${f.unit} | ${fmt(theirs, d)} ${f.unit} | ${ratio} |`;
}

/** The generator fell behind its own schedule by more than this (p99): a step's loss may be its own. */
const GENERATOR_LATE_MS = 20;

/** The largest step whose loss stayed under the limit (0 when none did). */
function capacity(result: SrtpBenchResult, kind: 'embedded' | 'rtpengine'): string {
  let best = 0;
  for (const step of result.steps) {
    const run = step[kind];
    if (run && run.lossPct < result.options.maxLossPct) best = step.calls;
  }
  const tried = result.steps.filter((s) => s[kind]).map((s) => s.calls);
  if (tried.length === 0) return '–';
  return best === tried[tried.length - 1] ? `≥ ${best}` : `${best}`;
}

export function srtpReport(result: SrtpBenchResult): string {
  const o = result.options;
  const lines = [
    `SRTP ⇄ RTP relay (browser SRTP AES_CM_128_HMAC_SHA1_80 ⇄ trunk RTP), ${o.calls} calls × 2 directions × 50 pkt/s, ` +
      `${o.measureMs / 1000} s measured, ${result.pairs.length} alternating pairs; load average at start ${result.loadAverage.map((l) => l.toFixed(2)).join(' ')}`,
    '',
    '| figure | embedded | rtpengine (userspace) | ratio, median (range) |',
    '|---|---|---|---|',
    ...FIGURES.map((f) => pairRow(f, result.pairs)),
  ];
  const lag = result.pairs.map((p) => p.embedded.lagMs).filter((l) => l !== undefined);
  if (lag.length) {
    lines.push(`| event-loop delay p50 / p99 / max (embedded) | ${fmt(median(lag.map((l) => l!.p50)))} / ${fmt(median(lag.map((l) => l!.p99)))} / ${fmt(median(lag.map((l) => l!.max)))} ms | – | – |`);
  }
  const late = median(result.pairs.flatMap((p) => [p.embedded.generatorLateP99Ms, p.rtpengine.generatorLateP99Ms]));
  const genCore = median(result.pairs.flatMap((p) => [p.embedded.generatorCorePct, p.rtpengine.generatorCorePct]));
  const genDropped = result.pairs.reduce((n, p) => n + p.embedded.generatorDropped + p.rtpengine.generatorDropped, 0);
  lines.push(
    '',
    `  load generator (${result.generator}): pacing late p99 ${fmt(late)} ms, ${fmt(genCore, 1)} % of a core ` +
      `(not counted in the relay's CPU), ${genDropped} datagrams dropped by its own sockets`,
  );
  if (result.steps.length) {
    lines.push('', `  capacity (loss < ${o.maxLossPct} %, ${o.stepMeasureMs / 1000} s per step): embedded ${capacity(result, 'embedded')} calls, rtpengine ${capacity(result, 'rtpengine')} calls`);
    for (const step of result.steps) {
      const cell = (r?: SrtpRun): string =>
        r
          ? `loss ${fmt(r.lossPct, 3)} % (to trunk ${fmt(r.lossToTrunkPct, 3)}, to browser ${fmt(r.lossToBrowserPct, 3)}), ` +
            `${fmt(r.corePct, 0)} % core, ${fmt(r.usPerPacket)} µs/pkt, ` +
            `p50/p99/p99.9 ${fmt(r.latencyMs.p50)}/${fmt(r.latencyMs.p99)}/${fmt(r.latencyMs.p999)} ms, ${fmt(r.rssKiBPerCall, 0)} KiB/call, ` +
            (r.lagMs ? `loop lag p99 ${fmt(r.lagMs.p99)} ms, ` : '') +
            `generator ${fmt(r.generatorCorePct, 1)} % core` +
            (r.generatorDropped ? `, ${r.generatorDropped} dropped by the generator` : '') +
            (r.generatorLateP99Ms > GENERATOR_LATE_MS ? ` (generator ${fmt(r.generatorLateP99Ms, 0)} ms late: limited by it)` : '')
          : 'not run';
      lines.push(`    ${String(step.calls).padStart(4)} calls: embedded ${cell(step.embedded)};  rtpengine ${cell(step.rtpengine)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
