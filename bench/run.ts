// `npm run bench`: the media relay, ours beside rtpengine (the anchor), plus the SRTP micro-benchmark.
// Everything stays on 127.0.0.1. Knobs: BENCH_CALLS (default 100), BENCH_SECONDS (default 10).
// Results are printed and written to bench/results/latest.json (not committed).
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startEmbedded, startRtpengine, type BenchEngine } from './engines.js';
import { runRelay, type RelayResult } from './relay.js';

const CALLS = Number(process.env.BENCH_CALLS ?? 100);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const here = path.dirname(new URL(import.meta.url).pathname);

async function measure(start: () => Promise<BenchEngine>): Promise<RelayResult> {
  const engine = await start();
  try {
    return await runRelay(engine, CALLS, SECONDS);
  } finally {
    await engine.stop();
  }
}

function row(r: RelayResult): string {
  const loss = (100 * (1 - r.received / r.sent)).toFixed(2);
  return `  ${r.engine.padEnd(24)} ${r.usPerPacket.toFixed(2).padStart(8)} µs CPU/pkt  ${r.rssMiB.toFixed(1).padStart(7)} MiB RSS  ${r.rssPerCallKiB.toFixed(1).padStart(7)} KiB/call  loss ${loss}%  (${r.received}/${r.sent} pkts, ${r.cpuMs.toFixed(0)} ms CPU)`;
}

const anchor = await measure(() => startRtpengine(22222, 30000));
const ours = await measure(() => startEmbedded(36000));
const ratio = ours.usPerPacket / anchor.usPerPacket;
process.stdout.write(
  `RTP ⇄ RTP relay, ${CALLS} calls × 2 directions × 50 pkt/s, ${SECONDS} s\n${row(anchor)}\n${row(ours)}\n` +
    `  CPU per packet, ours / rtpengine: ${ratio.toFixed(2)}×;  memory per call, ours / rtpengine: ${(ours.rssPerCallKiB / Math.max(anchor.rssPerCallKiB, 0.1)).toFixed(2)}×\n\n`,
);
const srtp = execFileSync(process.execPath, ['--import', 'tsx', path.join(here, 'srtp.ts')], { encoding: 'utf8' });
process.stdout.write(srtp);
mkdirSync(path.join(here, 'results'), { recursive: true });
writeFileSync(path.join(here, 'results', 'latest.json'), JSON.stringify({ calls: CALLS, seconds: SECONDS, anchor, ours, ratio, srtp }, null, 2));
