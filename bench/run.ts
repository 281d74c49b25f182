// `npm run bench`: the media relay, ours beside rtpengine (the anchor), plus the SRTP micro-benchmark.
// Everything stays on 127.0.0.1. Knobs: BENCH_CALLS (default 100), BENCH_SECONDS (default 10); the SRTP ⇄ RTP
// scenario: BENCH_SRTP=0 skips it, BENCH_SRTP_* (bench/srtp-relay.ts optionsFromEnv); the WebSocket registrar:
// BENCH_SKIP_WS=1 skips it, BENCH_WS_* (bench/ws-register.ts).
// Results are printed and written to bench/results/latest.json (not committed).
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startEmbedded, startRtpengine, type BenchEngine } from './engines.js';
import { idleMemoryPerCallKiB, runRelay, type RelayResult } from './relay.js';
import { measureRest, restReport } from './rest.js';
import { optionsFromEnv, runSrtpBench } from './srtp-relay.js';
import { srtpReport } from './srtp-report.js';
import { measureSignalling, signallingReport } from './signalling.js';
import { measureWsRegister, WS_RATES, wsRegisterReport } from './ws-register.js';

const CALLS = Number(process.env.BENCH_CALLS ?? 100);
const IDLE_CALLS = Number(process.env.BENCH_IDLE_CALLS ?? 1000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const here = path.dirname(new URL(import.meta.url).pathname);

type Measured = RelayResult & { kibPerCall: number };

async function measure(start: () => Promise<BenchEngine>): Promise<Measured> {
  const engine = await start();
  try {
    const relay = await runRelay(engine, CALLS, SECONDS);
    return { ...relay, kibPerCall: await idleMemoryPerCallKiB(engine, IDLE_CALLS) };
  } finally {
    await engine.stop();
  }
}

function row(r: Measured): string {
  const loss = (100 * (1 - r.received / r.sent)).toFixed(2);
  return `  ${r.engine.padEnd(24)} ${r.usPerPacket.toFixed(2).padStart(8)} µs CPU/pkt  ${r.rssMiB.toFixed(1).padStart(7)} MiB RSS  ${r.kibPerCall.toFixed(1).padStart(6)} KiB/call (${IDLE_CALLS} idle calls)  loss ${loss}%  (${r.received}/${r.sent} pkts, ${r.cpuMs.toFixed(0)} ms CPU)`;
}

const anchor = await measure(() => startRtpengine(22222, 30000));
const ours = await measure(() => startEmbedded(36000));
const ratio = ours.usPerPacket / anchor.usPerPacket;
process.stdout.write(
  `RTP ⇄ RTP relay, ${CALLS} calls × 2 directions × 50 pkt/s, ${SECONDS} s\n${row(anchor)}\n${row(ours)}\n` +
    `  CPU per packet, ours / rtpengine: ${ratio.toFixed(2)}×;  memory per call, ours / rtpengine: ${(ours.kibPerCall / anchor.kibPerCall).toFixed(2)}×\n\n`,
);
const srtp = execFileSync(process.execPath, ['--import', 'tsx', path.join(here, 'srtp.ts')], { encoding: 'utf8' });
process.stdout.write(srtp);
// SRTP ⇄ RTP relay against rtpengine with the STUN/DTLS/SRTP load generator (bench/srtp-relay.ts); BENCH_SRTP=0 skips it.
const srtpRelay = process.env.BENCH_SRTP === '0' ? undefined : await runSrtpBench(optionsFromEnv(), (line) => process.stderr.write(`${line}\n`));
if (srtpRelay) process.stdout.write(`\n${srtpReport(srtpRelay)}`);
// Resident memory at rest: the built gateway (npm start) and the old tsx start against Kamailio (rest.ts).
const rest = await measureRest();
process.stdout.write(`\n${restReport(rest)}`);
// Signalling at carrier rates: SIPp both ends, the gateway against Kamailio + rtpengine (signalling.ts).
const signalling = process.env.BENCH_SKIP_SIGNALLING ? [] : await measureSignalling();
if (signalling.length > 0) process.stdout.write(`\n${signallingReport(signalling)}`);
// The WebSocket registrar against Kamailio's: memory per idle registered client, REGISTER rate (ws-register.ts).
const wsRegister = process.env.BENCH_SKIP_WS === '1' ? [] : await measureWsRegister();
if (wsRegister.length > 0) process.stdout.write(`\n${wsRegisterReport(wsRegister, WS_RATES)}`);
mkdirSync(path.join(here, 'results'), { recursive: true });
writeFileSync(path.join(here, 'results', 'latest.json'), JSON.stringify({ calls: CALLS, seconds: SECONDS, anchor, ours, ratio, srtp, srtpRelay, rest, signalling, wsRegister }, null, 2));
